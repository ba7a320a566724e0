using Ghost.ML.Torch.Models;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Ghost.ML.Tests.Shared;

/// <summary>Writes a module's state_dict in one of the formats pretrained weights come in; linked into each test project that needs it.</summary>
internal static class WeightsFiles
{
    /// <summary>Writes <paramref name="model"/>'s state_dict to <c>weights-{format}.bin</c> in <paramref name="folder"/> and returns the path.</summary>
    public static string Save(nn.Module model, StateDictFormat format, string folder)
    {
        var path = Path.Combine(folder, $"weights-{format}.bin");
        switch (format)
        {
            case StateDictFormat.PyTorch:
                model.save_py(path);
                break;
            case StateDictFormat.Safetensors:
                model.save_safetensors(path);
                break;
            default:
                model.save(path);
                break;
        }

        return path;
    }
}
