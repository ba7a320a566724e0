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

    /// <summary>
    /// Throws unless the fields fit together: a model that loaded with a null shape, a zero standard deviation or
    /// label values of another type would fail later, at Transform, or score NaN.
    /// </summary>
    /// <exception cref="InvalidDataException">A field is missing or does not fit the others.</exception>
    public void Validate()
    {
        if (ClassCount < 2 || (LabelValues is { } values && values.Length != ClassCount))
        {
            throw Invalid($"{ClassCount} classes and {LabelValues?.Length} label values");
        }

        if (SampleShape is null || SampleShape.Length == 0 || SampleShape.Any(dimension => dimension < 1))
        {
            throw Invalid($"sample shape [{string.Join(", ", SampleShape ?? [])}]");
        }

        if (FeatureKind == EncodedImageFeatures && (SampleShape.Length != 3 || SampleShape[0] is not (1 or 3)
            || SampleShape.Skip(1).Any(size => size < 8 || size > GhostBatchNormImageClassifier.Options.MaxImageSize)))
        {
            throw Invalid($"image shape [{string.Join(", ", SampleShape)}] (1 or 3 channels, 8 to {GhostBatchNormImageClassifier.Options.MaxImageSize} pixels a side)");
        }

        CheckStandardization();
        CheckLabelValues();
        if (GhostBatchSize < 0 || new[] { LabelColumnName, FeatureColumnName, ScoreColumnName, PredictedLabelColumnName }.Any(string.IsNullOrWhiteSpace))
        {
            throw Invalid("column names or ghost batch size");
        }
    }

    private void CheckStandardization()
    {
        if (ChannelMean is null && ChannelStd is null)
        {
            return;
        }

        if (ChannelMean?.Length != SampleShape[0] || ChannelStd?.Length != SampleShape[0])
        {
            throw Invalid($"channel statistics for {ChannelMean?.Length} and {ChannelStd?.Length} channels, for samples of {SampleShape[0]}");
        }

        if (!ChannelMean.All(float.IsFinite) || !ChannelStd.All(std => float.IsFinite(std) && std > 0))
        {
            throw Invalid("channel statistics: every mean must be finite and every standard deviation finite and > 0");
        }
    }

    private void CheckLabelValues()
    {
        if (LabelValues is null)
        {
            return;
        }

        var type = Classification.ClassLabels.TypeFromName(LabelValueType)
            ?? throw Invalid($"label value type '{LabelValueType}'");
        if (Classification.ClassLabels.FirstInvalidValue(type, LabelValues) is { } value)
        {
            throw Invalid($"label value '{value}', which is not a {LabelValueType}");
        }
    }

    private static InvalidDataException Invalid(string what) =>
        new($"This is not a valid saved Ghost.ML model: its manifest.json has {what}.");
}
