using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Models;

/// <summary>
/// Loads pretrained weights into a model: PyTorch (<c>torch.save(model.state_dict())</c>, <c>.pt</c>/<c>.pth</c>),
/// safetensors and TorchSharp (<c>module.save</c>, <c>.dat</c>) files, strictly by key and shape.
/// </summary>
/// <remarks>
/// Load before <see cref="GhostBatchNormSurgery.ApplyGhostBatchNorm"/> or after it: ghost layers keep BatchNorm's
/// state_dict keys, so the same file fits both. Parameters and buffers (BatchNorm's running statistics and
/// <c>num_batches_tracked</c>) are copied in place, converted to the model's element type and device; tensors an
/// optimizer already holds stay the same objects.
/// </remarks>
/// <example>
/// <code>
/// using var model = ResNetFactory.Create(ResNetArchitecture.ResNet18, numClasses: 5);
/// var result = PretrainedWeights.Load(model, "resnet18-imagenet.pth", skipClassifier: true);
/// model.ApplyGhostBatchNorm(ghostBatchSize: 32);
/// </code>
/// </example>
public static class PretrainedWeights
{
    private const int ProblemsListed = 10;

    /// <summary>Loads the state_dict in the file at <paramref name="path"/> into <paramref name="model"/>.</summary>
    /// <param name="model">The model; its architecture must match the file's (same keys and shapes).</param>
    /// <param name="path">A PyTorch, safetensors or TorchSharp state_dict; the format is told from the content.</param>
    /// <param name="skipClassifier">
    /// Whether to leave the classifier (the model's last <see cref="Linear"/> layer, e.g. <c>fc</c>) as it is and
    /// ignore the file's tensors under the same name: for a model with another number of classes than the weights.
    /// </param>
    /// <returns>Which keys were loaded and which were skipped.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a readable state_dict, or it does not fit the model: the message names every missing or
    /// unexpected key and every shape mismatch with both shapes. Nothing is copied then.
    /// </exception>
    public static PretrainedWeightsResult Load(nn.Module model, string path, bool skipClassifier = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        var stateDict = StateDictFile.Read(path);
        try
        {
            return LoadChecked(model, stateDict, skipClassifier, $"'{path}'");
        }
        finally
        {
            foreach (var tensor in stateDict.Values)
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>Loads <paramref name="stateDict"/> into <paramref name="model"/>, with the checks of <see cref="Load(nn.Module, string, bool)"/>.</summary>
    /// <param name="model">The model; its architecture must match the state_dict (same keys and shapes).</param>
    /// <param name="stateDict">Tensors by state_dict key, e.g. from <see cref="StateDictFile.Read"/>, adapted as needed.</param>
    /// <param name="skipClassifier">Whether to leave the model's last <see cref="Linear"/> layer as it is.</param>
    /// <param name="source">Where the state_dict came from, for error messages (e.g. <c>'resnet18.pth'</c>); null says "the state_dict".</param>
    /// <returns>Which keys were loaded and which were skipped.</returns>
    /// <exception cref="InvalidDataException">The state_dict does not fit the model; nothing is copied then.</exception>
    public static PretrainedWeightsResult Load(nn.Module model, IReadOnlyDictionary<string, Tensor> stateDict, bool skipClassifier = false, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stateDict);
        return LoadChecked(model, stateDict, skipClassifier, source ?? "the state_dict");
    }

    /// <summary>The name of the model's classifier: its last <see cref="Linear"/> layer, or null when it has none.</summary>
    public static string? ClassifierName(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.named_modules().LastOrDefault(named => named.module is Linear).name;
    }

    private static PretrainedWeightsResult LoadChecked(nn.Module model, IReadOnlyDictionary<string, Tensor> stateDict, bool skipClassifier, string source)
    {
        var classifier = skipClassifier ? ClassifierName(model) : null;
        if (skipClassifier && classifier is null)
        {
            throw new ArgumentException($"The model ({model.GetName()}) has no Linear layer to skip as its classifier.", nameof(skipClassifier));
        }

        bool IsSkipped(string key) => classifier is not null && key.StartsWith(classifier + ".", StringComparison.Ordinal);

        var targets = model.state_dict();
        var problems = new List<(string Key, string Text)>();
        foreach (var (key, target) in targets)
        {
            if (IsSkipped(key))
            {
                continue;
            }

            if (!stateDict.TryGetValue(key, out var value))
            {
                problems.Add((key, $"missing key '{key}' (model {Shape(target)})"));
            }
            else if (!value.shape.SequenceEqual(target.shape))
            {
                problems.Add((key, $"shape mismatch at '{key}': model {Shape(target)}, weights {Shape(value)}"));
            }
        }

        problems.AddRange(stateDict
            .Where(entry => !targets.ContainsKey(entry.Key) && !IsSkipped(entry.Key))
            .Select(entry => (entry.Key, $"unexpected key '{entry.Key}' (weights {Shape(entry.Value)})")));
        if (problems.Count > 0)
        {
            var listed = string.Join("; ", problems.Take(ProblemsListed).Select(problem => problem.Text));
            var more = problems.Count > ProblemsListed ? $"; and {problems.Count - ProblemsListed} more" : "";
            // The skipClassifier hint only where it is the fix: every problem lies in the classifier.
            var head = skipClassifier ? null : ClassifierName(model);
            var hint = head is not null && problems.All(problem => problem.Key.StartsWith(head + ".", StringComparison.Ordinal))
                ? " The weights are for another number of classes: pass skipClassifier: true to keep the model's classifier."
                : " Check that the model's architecture is the one the weights were trained for.";
            throw new InvalidDataException($"The weights in {source} do not fit the model ({model.GetName()}): {listed}{more}.{hint}");
        }

        var loaded = new List<string>();
        var skipped = new List<string>();
        using (no_grad())
        {
            foreach (var (key, target) in targets)
            {
                if (IsSkipped(key))
                {
                    skipped.Add(key);
                    continue;
                }

                target.copy_(stateDict[key]);
                loaded.Add(key);
            }
        }

        skipped.AddRange(stateDict.Keys.Where(IsSkipped).Where(key => !skipped.Contains(key)));
        return new PretrainedWeightsResult(loaded, skipped);
    }

    private static string Shape(Tensor tensor) => $"[{string.Join(", ", tensor.shape)}]";
}
