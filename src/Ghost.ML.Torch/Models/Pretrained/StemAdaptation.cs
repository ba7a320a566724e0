using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Models;

/// <summary>
/// Fits a state_dict's stem (the model's first convolution) to a model that reads grey images when the weights were
/// trained on colour ones.
/// </summary>
/// <example>
/// <code>
/// using var model = ResNetFactory.Create(ResNetArchitecture.ResNet18, numClasses: 5, inputChannels: 1);
/// var stateDict = StateDictFile.Read("resnet18-imagenet.pth");
/// StemAdaptation.SumInputChannels(model, stateDict);
/// PretrainedWeights.Load(model, stateDict, skipClassifier: true);
/// </code>
/// </example>
public static class StemAdaptation
{
    /// <summary>
    /// When the model's first <see cref="Conv2d"/> reads one channel and the state_dict's weight for it reads
    /// several, replaces that weight by its sum over the input channels. A grey image then gives the same output as
    /// the original weights give for that image repeated in every channel, since a convolution is linear in its input.
    /// </summary>
    /// <param name="model">The model the state_dict will be loaded into.</param>
    /// <param name="stateDict">The weights; the stem's tensor is replaced (and the old one disposed) when adapted.</param>
    /// <returns>The state_dict key that was adapted (e.g. <c>conv1.weight</c>), or null when nothing needed it.</returns>
    public static string? SumInputChannels(nn.Module model, IDictionary<string, Tensor> stateDict)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stateDict);
        var (name, module) = model.named_modules().FirstOrDefault(named => named.module is Conv2d);
        if (module is not Conv2d stem || stem.weight is null)
        {
            return null;
        }

        string key = name + ".weight";
        if (stem.weight.shape[1] != 1 || !stateDict.TryGetValue(key, out var weight) || weight.ndim != 4 || weight.shape[1] <= 1)
        {
            return null;
        }

        stateDict[key] = weight.sum(dim: 1, keepdim: true);
        weight.Dispose();
        return key;
    }
}
