using Ghost.ML.Features;
using static TorchSharp.torch;

namespace Ghost.ML.Classification;

/// <summary>
/// What training yields and a saved model holds: the network with everything needed to score with it, save it and
/// rebuild it. Training produces it, <see cref="GhostBatchNormClassificationTransformer"/> scores with it and
/// <c>Persistence.ClassifierPackage</c> writes and reads it; none of the three knows the others.
/// </summary>
internal sealed record TrainedClassifier : IDisposable
{
    /// <summary>Value of <see cref="Architecture"/> for a network built by a user's factory (GhostBatchNormTrainer).</summary>
    public const string CustomArchitecture = "custom";

    /// <summary>The trained network, ghost layers in place when <see cref="GhostBatchSize"/> is positive; owned by this object.</summary>
    public required nn.Module<Tensor, Tensor> Network { get; init; }

    /// <summary>The device <see cref="Network"/> is on.</summary>
    public required Device Device { get; init; }

    /// <summary>A <c>ResNetArchitecture</c> name, or <see cref="CustomArchitecture"/>.</summary>
    public required string Architecture { get; init; }

    /// <summary>For a <see cref="CustomArchitecture"/>: the name its factory is registered under (<see cref="GhostBatchNormModelFactories"/>), or null.</summary>
    public string? ModelFactoryName { get; init; }

    /// <summary>Samples per ghost batch the network was trained with; 0 for plain BatchNorm.</summary>
    public required int GhostBatchSize { get; init; }

    /// <summary>The feature format and the per-channel standardization.</summary>
    public required NetworkInput Input { get; init; }

    /// <summary>The classes, with the training label's key values.</summary>
    public required ClassLabels Classes { get; init; }

    /// <summary>The column names.</summary>
    public required ClassifierColumns Columns { get; init; }

    /// <summary>Rows per forward pass when scoring.</summary>
    public required int ScoringBatchSize { get; init; }

    /// <summary>Releases the network's native memory.</summary>
    public void Dispose() => Network.Dispose();
}
