namespace Ghost.ML.Torch.Models;

/// <summary>What <see cref="PretrainedWeights.Load(TorchSharp.torch.nn.Module, string, bool)"/> copied into a model.</summary>
/// <param name="Loaded">The state_dict keys (parameters and buffers) whose values came from the file.</param>
/// <param name="Skipped">
/// The keys left as they were: the classifier's, when it was skipped (in the model and in the file).
/// </param>
public sealed record PretrainedWeightsResult(IReadOnlyList<string> Loaded, IReadOnlyList<string> Skipped);
