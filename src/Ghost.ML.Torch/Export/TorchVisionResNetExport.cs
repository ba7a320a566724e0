using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// The graphs of TorchVision's ResNet and its BasicBlock and Bottleneck, recognised by type name and read through
/// their registered submodules: Ghost.ML.Torch does not reference TorchVision.
/// </summary>
internal static class TorchVisionResNetExport
{
    private const string ResNet = "TorchSharp.Modules.ResNet";
    private const string BasicBlock = "TorchSharp.Modules.ResNet+BasicBlock";
    private const string Bottleneck = "TorchSharp.Modules.ResNet+Bottleneck";

    /// <summary>Whether <paramref name="module"/> is one of TorchVision's ResNet modules.</summary>
    public static bool Recognizes(nn.Module module) => module.GetType().FullName is ResNet or BasicBlock or Bottleneck;

    /// <summary>Adds the graph of the recognised <paramref name="module"/>, as its <c>forward</c> computes it.</summary>
    public static string Add(OnnxGraphBuilder graph, nn.Module module, string input)
    {
        var downsample = module.named_children().FirstOrDefault(child => child.name == "downsample").module;
        return module.GetType().FullName switch
        {
            ResNet => graph.Chain(input, module,
                "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten", "fc"),
            BasicBlock => graph.Residual(input,
                x => graph.Chain(x, module, "conv1", "bn1", "relu1", "conv2", "bn2"), downsample),
            _ => graph.Residual(input,
                x => graph.Chain(x, module, "conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3"), downsample),
        };
    }
}
