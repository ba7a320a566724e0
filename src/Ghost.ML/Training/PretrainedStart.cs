using Ghost.ML.Classification;
using Ghost.ML.Persistence;
using Ghost.ML.Torch.Models;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>How the network started from <see cref="GhostBatchNormTrainingOptions.PretrainedWeightsPath"/>.</summary>
/// <param name="ClassifierReplaced">Whether the weights had another class count, so the classifier is new.</param>
internal sealed record PretrainedStartResult(bool ClassifierReplaced);

/// <summary>
/// The weights a Fit starts from: a PyTorch, safetensors or TorchSharp state_dict, or a model saved by Ghost.ML
/// (<c>transformer.Save</c> or <c>mlContext.Model.Save</c>; then training continues from it, with its input normalization). Loaded into the new network before the ghost
/// surgery, with the classifier replaced when the class count differs and a colour stem summed for grey input.
/// </summary>
internal sealed class PretrainedStart : IDisposable
{
    private readonly string _path;
    private readonly string _architecture;
    private readonly Dictionary<string, Tensor> _stateDict;

    private PretrainedStart(string path, string architecture, Dictionary<string, Tensor> stateDict, string description, InputNormalization? savedNormalization)
    {
        _path = path;
        _architecture = architecture;
        _stateDict = stateDict;
        Description = description;
        SavedNormalization = savedNormalization;
    }

    /// <summary>What the file is, for the log, e.g. "a PyTorch state_dict".</summary>
    public string Description { get; }

    /// <summary>The saved model's input normalization when the file is a Ghost.ML model that has one, else null.</summary>
    public InputNormalization? SavedNormalization { get; }

    /// <summary>Reads the weights file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="architecture">The network this Fit trains (a ResNet name or "custom"), for messages and for checking a saved model.</param>
    /// <param name="customFactory">Builds the custom network of a saved GhostBatchNormTrainer model for a class count; null for ResNets.</param>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a state_dict or saved model, or it is a saved model of another architecture.</exception>
    public static PretrainedStart Read(string path, string architecture, Func<int, nn.Module<Tensor, Tensor>>? customFactory)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"PretrainedWeightsPath: no file at '{path}'.", path);
        }

        using var stream = SavedClassifierFile.TryRead(path);
        if (stream is null)
        {
            var format = StateDictFile.DetectFormat(path);
            return new PretrainedStart(path, architecture, StateDictFile.Read(path), $"a {format} state_dict", null);
        }

        using var saved = ClassifierPackage.Load(stream, CPU, customFactory);
        if (saved.Architecture != architecture)
        {
            throw new InvalidDataException(
                $"PretrainedWeightsPath '{path}' is a Ghost.ML model of {Describe(saved.Architecture)}; this estimator trains {Describe(architecture)}. Set the same Architecture, or start from a file of {Describe(architecture)}.");
        }

        // Own copies: the saved network is released here, and the stem adaptation may replace a tensor.
        var stateDict = saved.Network.state_dict().ToDictionary(entry => entry.Key, entry => entry.Value.detach().clone());
        var normalization = saved.Input is { ChannelMean: { } mean, ChannelStd: { } std } ? new InputNormalization(mean, std) : null;
        return new PretrainedStart(path, architecture, stateDict, $"a Ghost.ML model ({saved.Classes.Count} classes)", normalization);
    }

    /// <summary>
    /// Copies the weights into <paramref name="model"/> (built for <paramref name="classCount"/> classes, on the CPU,
    /// before the ghost surgery), adapting the classifier and the stem as needed, and logs what it did.
    /// </summary>
    /// <exception cref="InvalidDataException">The weights do not fit the network: the message names the architecture, the file and the keys.</exception>
    public PretrainedStartResult LoadInto(nn.Module model, int classCount, IChannel channel)
    {
        var classifier = PretrainedWeights.ClassifierName(model);
        bool replaceClassifier = classifier is not null
            && _stateDict.TryGetValue(classifier + ".weight", out var head) && head.ndim == 2 && head.shape[0] != classCount;
        var stem = StemAdaptation.SumInputChannels(model, _stateDict);
        PretrainedWeightsResult result;
        try
        {
            result = PretrainedWeights.Load(model, _stateDict, replaceClassifier, $"'{_path}'");
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"PretrainedWeightsPath does not fit {Describe(_architecture)}. {e.Message}", e);
        }

        channel.Info(MessageSensitivity.None, $"Started from '{_path}', {Description}: {result.Loaded.Count} tensors loaded.");
        if (stem is not null)
        {
            channel.Info(MessageSensitivity.None, $"The stem '{stem}' expects colour and the input is grey: its weights are summed over the input channels.");
        }

        if (replaceClassifier)
        {
            channel.Info(MessageSensitivity.None,
                $"The classifier '{classifier}' is replaced by a new Linear layer: the weights have {_stateDict[classifier + ".weight"].shape[0]} classes, the training set {classCount}.");
        }

        return new PretrainedStartResult(replaceClassifier);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var tensor in _stateDict.Values)
        {
            tensor.Dispose();
        }
    }

    private static string Describe(string architecture) =>
        architecture == TrainedClassifier.CustomArchitecture ? "the custom network of GhostBatchNormTrainer's modelFactory" : $"the {architecture} network";
}
