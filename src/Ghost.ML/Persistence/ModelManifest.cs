namespace Ghost.ML.Persistence;

/// <summary>
/// The <c>manifest.json</c> of a saved model: everything besides the weights that is needed to rebuild the network,
/// its input stage and its output columns.
/// </summary>
internal sealed class ModelManifest
{
    /// <summary>The format this version writes; it reads this and every older one.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Value of <see cref="FeatureKind"/> for encoded image bytes.</summary>
    public const string EncodedImageFeatures = "encoded-image";

    /// <summary>Value of <see cref="FeatureKind"/> for float vectors.</summary>
    public const string FloatVectorFeatures = "float-vector";

    /// <summary>Version of this file's layout.</summary>
    public int FormatVersion { get; set; }

    /// <summary>Ghost.ML version that wrote the file.</summary>
    public string LibraryVersion { get; set; } = string.Empty;

    /// <summary>TorchSharp version that wrote the weights.</summary>
    public string TorchSharpVersion { get; set; } = string.Empty;

    /// <summary>A <c>ResNetArchitecture</c> name, or <see cref="Classification.TrainedClassifier.CustomArchitecture"/>.</summary>
    public string Architecture { get; set; } = string.Empty;

    /// <summary>For a custom network: the name its factory is registered under, or null (older files have none).</summary>
    public string? ModelFactoryName { get; set; }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; set; }

    /// <summary>Type of the label's key values (a .NET type name such as ReadOnlyMemory`1 or Single), or null.</summary>
    public string? LabelValueType { get; set; }

    /// <summary>The label's key values as invariant text, one per class, or null.</summary>
    public string[]? LabelValues { get; set; }

    /// <summary><see cref="EncodedImageFeatures"/> or <see cref="FloatVectorFeatures"/>.</summary>
    public string FeatureKind { get; set; } = string.Empty;

    /// <summary>Shape of one sample as the network reads it, e.g. [channels, height, width].</summary>
    public long[] SampleShape { get; set; } = [];

    /// <summary>Per-channel mean the input is standardized with, or null.</summary>
    public float[]? ChannelMean { get; set; }

    /// <summary>Per-channel standard deviation the input is standardized with, or null.</summary>
    public float[]? ChannelStd { get; set; }

    /// <summary>Name of the label column at training time.</summary>
    public string LabelColumnName { get; set; } = string.Empty;

    /// <summary>Name of the feature column.</summary>
    public string FeatureColumnName { get; set; } = string.Empty;

    /// <summary>Name of the Score column.</summary>
    public string ScoreColumnName { get; set; } = string.Empty;

    /// <summary>Name of the PredictedLabel column.</summary>
    public string PredictedLabelColumnName { get; set; } = string.Empty;

    /// <summary>Samples per ghost batch the network was trained with; 0 for plain BatchNorm.</summary>
    public int GhostBatchSize { get; set; }

    /// <summary>Rows per forward pass when scoring.</summary>
    public int ScoringBatchSize { get; set; }
}
