using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Models;

/// <summary>The weight initialization of the whole ResNet family, TorchVision's.</summary>
internal static class ResNetInitialization
{
    /// <summary>
    /// Draws every convolution of <paramref name="model"/> Kaiming-normal (fan-out, ReLU gain). BatchNorm layers
    /// already start at scale 1 and shift 0, and Linear layers keep TorchSharp's default, as in TorchVision.
    /// </summary>
    public static void InitializeConvolutions(nn.Module model)
    {
        foreach (var conv in model.modules().OfType<Conv2d>())
        {
            nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        }
    }
}
