using Ghost.ML.Features;
using Ghost.ML.Persistence;
using Ghost.ML.Scoring;
using Ghost.ML.Torch;
using Ghost.ML.Torch.Models;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML;

/// <summary>
/// A trained Ghost BatchNorm classifier: adds <c>Score</c> (class probabilities) and <c>PredictedLabel</c> (a key with
/// the training label's values) to data with the feature column it was trained on.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Transform"/> is lazy and batched: a cursor reads <see cref="ScoringBatchSize"/> rows ahead, decodes
/// them in parallel and runs one forward pass per batch. <c>PredictionEngine</c> works too (one row per pass). The
/// network is in evaluation mode for the transformer's whole life, so scoring from several threads is safe.
/// </para>
/// <para>
/// Save with <see cref="Save(string)"/> and load with <see cref="Load(MLContext, string)"/>, or save the whole chain
/// with <c>mlContext.Model.Save</c> and load it with <c>mlContext.Model.Load</c>: the ML.NET model file holds the
/// same payload.
/// </para>
/// </remarks>
public sealed partial class GhostBatchNormClassificationTransformer : ITransformer, IDisposable
{
    private readonly ScoringModel _model;
    private readonly ClassLabels _classes;
    private readonly OutputColumns _outputs;
    private readonly string _architecture;
    private readonly string _labelColumnName;
    private readonly int _ghostBatchSize;
    private int _scoringBatchSize;
    private bool _disposed;

    /// <summary>The network and input preparation the transformer scores with (for benchmarks that time it bare).</summary>
    internal ScoringModel ScoringModel => _model;

    internal GhostBatchNormClassificationTransformer(ScoringModel model, ClassLabels classes, string architecture, int ghostBatchSize,
        string labelColumnName, string featureColumnName, string scoreColumnName, string predictedLabelColumnName, int scoringBatchSize)
    {
        _model = model;
        _classes = classes;
        _architecture = architecture;
        _ghostBatchSize = ghostBatchSize;
        _labelColumnName = labelColumnName;
        FeatureColumnName = featureColumnName;
        _outputs = new OutputColumns(scoreColumnName, predictedLabelColumnName);
        ScoringBatchSize = scoringBatchSize;
    }

    /// <summary>Rows decoded and scored per forward pass by <see cref="Transform"/>; at least 1. Takes effect for later Transform calls.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int ScoringBatchSize
    {
        get => _scoringBatchSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, nameof(ScoringBatchSize));
            _scoringBatchSize = value;
        }
    }

    /// <summary>Number of classes the model predicts.</summary>
    public int ClassCount => _classes.Count;

    /// <summary>The feature column the model reads.</summary>
    public string FeatureColumnName { get; }

    /// <summary>True: the transformer maps rows one to one, so <c>PredictionEngine</c> can use it.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>Loads a model saved by <see cref="Save(string)"/> from a <see cref="GhostBatchNormImageClassifier"/>.</summary>
    /// <remarks>
    /// The model goes to the CPU, or to CUDA when <see cref="MLContext.GpuDeviceId"/> is set and CUDA is available.
    /// Load only trusted files: they are read with TorchSharp's deserializer.
    /// </remarks>
    /// <exception cref="InvalidDataException">The file is not a saved Ghost.ML model.</exception>
    /// <exception cref="NotSupportedException">The file was written by a newer Ghost.ML.</exception>
    /// <exception cref="InvalidOperationException">The model was trained by <see cref="GhostBatchNormTrainer"/>: use the overload that takes the model factory.</exception>
    public static GhostBatchNormClassificationTransformer Load(MLContext mlContext, string path)
    {
        using var file = OpenForLoad(mlContext, path);
        return Load(mlContext, file);
    }

    /// <inheritdoc cref="Load(MLContext, string)"/>
    public static GhostBatchNormClassificationTransformer Load(MLContext mlContext, Stream stream) => LoadCore(mlContext, stream, null);

    /// <summary>Loads a model saved from a <see cref="GhostBatchNormTrainer"/>, rebuilding its network with <paramref name="modelFactory"/>.</summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="path">The saved model.</param>
    /// <param name="modelFactory">The factory the model was trained with (takes the class count); used for image classifiers' files too when given.</param>
    /// <inheritdoc cref="Load(MLContext, string)" path="/exception"/>
    public static GhostBatchNormClassificationTransformer Load(MLContext mlContext, string path, Func<int, nn.Module<Tensor, Tensor>> modelFactory)
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        using var file = OpenForLoad(mlContext, path);
        return LoadCore(mlContext, file, modelFactory);
    }

    /// <inheritdoc cref="Load(MLContext, string, Func{int, nn.Module{Tensor, Tensor}})"/>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="stream">The saved model; it stays open.</param>
    /// <param name="modelFactory">The factory the model was trained with (takes the class count).</param>
    public static GhostBatchNormClassificationTransformer Load(MLContext mlContext, Stream stream, Func<int, nn.Module<Tensor, Tensor>> modelFactory)
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        return LoadCore(mlContext, stream, modelFactory);
    }

    /// <summary>Adds the Score and PredictedLabel columns to <paramref name="inputSchema"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The feature column is missing or has the wrong type.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Bind(inputSchema).OutputSchema;

    /// <summary>A mapper that scores one row at a time, as <c>PredictionEngine</c> uses it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The feature column is missing or has the wrong type.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new ScoringRowMapper(Bind(inputSchema));

    /// <summary>Returns a lazy view of <paramref name="input"/> with Score and PredictedLabel, scored <see cref="ScoringBatchSize"/> rows per forward pass.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The feature column is missing or has the wrong type.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new BatchedScoringDataView(Bind(input.Schema), input, ScoringBatchSize);
    }

    /// <summary>Saves the model (weights, label values, input settings) to a versioned zip file.</summary>
    /// <remarks>The file is written beside <paramref name="path"/> first and moved there when complete.</remarks>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ModelPackage.Save(path, ToManifest(), _model.Model);
    }

    /// <summary>Saves the model to <paramref name="stream"/>, which stays open.</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ModelPackage.Save(stream, ToManifest(), _model.Model);
    }

    /// <summary>Releases the network's native memory.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _model.Dispose();
        }
    }

    private ScoringBinding Bind(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ScoringBinding(_model, _classes, _outputs, FeatureColumnName, inputSchema);
    }

    private ModelManifest ToManifest()
    {
        var input = _model.Input;
        return new ModelManifest
        {
            FormatVersion = ModelManifest.CurrentFormatVersion,
            LibraryVersion = typeof(GhostBatchNormClassificationTransformer).Assembly.GetName().Version?.ToString() ?? string.Empty,
            TorchSharpVersion = typeof(torch).Assembly.GetName().Version?.ToString() ?? string.Empty,
            Architecture = _architecture,
            ClassCount = _classes.Count,
            LabelValueType = ClassLabels.NameOfType(_classes.ValueType),
            LabelValues = _classes.Values?.ToArray(),
            FeatureKind = input.Format is EncodedImageFormat ? ModelManifest.EncodedImageFeatures : ModelManifest.FloatVectorFeatures,
            SampleShape = input.Format.SampleShape,
            ChannelMean = input.ChannelMean,
            ChannelStd = input.ChannelStd,
            LabelColumnName = _labelColumnName,
            FeatureColumnName = FeatureColumnName,
            ScoreColumnName = _outputs.ScoreColumnName,
            PredictedLabelColumnName = _outputs.PredictedLabelColumnName,
            GhostBatchSize = _ghostBatchSize,
            ScoringBatchSize = ScoringBatchSize,
        };
    }

    private static GhostBatchNormClassificationTransformer LoadCore(MLContext mlContext, Stream stream, Func<int, nn.Module<Tensor, Tensor>>? modelFactory)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(stream);
        return LoadCore(mlContext.GpuDeviceId, stream, modelFactory);
    }

    private static GhostBatchNormClassificationTransformer LoadCore(int? gpuDeviceId, Stream stream, Func<int, nn.Module<Tensor, Tensor>>? modelFactory) =>
        ModelPackage.Load(stream, manifest =>
        {
            var network = CreateNetwork(manifest, modelFactory);
            if (manifest.GhostBatchSize > 0)
            {
                network.ApplyGhostBatchNorm(manifest.GhostBatchSize);
            }

            return (network, FromManifest(gpuDeviceId, manifest, network));
        });

    private static FileStream OpenForLoad(MLContext mlContext, string path)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return File.OpenRead(path);
    }

    private static nn.Module<Tensor, Tensor> CreateNetwork(ModelManifest manifest, Func<int, nn.Module<Tensor, Tensor>>? modelFactory)
    {
        if (modelFactory is not null)
        {
            return modelFactory(manifest.ClassCount);
        }

        if (manifest.Architecture == ModelManifest.CustomArchitecture)
        {
            throw new InvalidOperationException(
                "The model was trained by GhostBatchNormTrainer with a custom network: load it with GhostBatchNormClassificationTransformer.Load(mlContext, path, modelFactory), passing the same factory.");
        }

        if (!Enum.TryParse<ResNetArchitecture>(manifest.Architecture, out var architecture) || manifest.SampleShape.Length != 3)
        {
            throw new InvalidDataException($"The saved model names an unknown architecture '{manifest.Architecture}'.");
        }

        return GhostBatchNormImageClassifier.CreateNetwork(architecture, (int)manifest.SampleShape[0], manifest.ClassCount);
    }

    private static GhostBatchNormClassificationTransformer FromManifest(int? gpuDeviceId, ModelManifest manifest, nn.Module<Tensor, Tensor> network)
    {
        FeatureFormat format = manifest.FeatureKind switch
        {
            ModelManifest.EncodedImageFeatures when manifest.SampleShape.Length == 3 =>
                new EncodedImageFormat((int)manifest.SampleShape[2], (int)manifest.SampleShape[1], (int)manifest.SampleShape[0]),
            ModelManifest.FloatVectorFeatures => new FloatVectorFormat(manifest.SampleShape),
            _ => throw new InvalidDataException($"The saved model has an unknown feature kind '{manifest.FeatureKind}'."),
        };
        var device = gpuDeviceId is { } gpu && cuda.is_available() ? torch.device(DeviceType.CUDA, gpu) : CPU;
        network.to(device);
        var classes = new ClassLabels(manifest.ClassCount, ClassLabels.TypeFromName(manifest.LabelValueType), manifest.LabelValues);
        return new GhostBatchNormClassificationTransformer(
            new ScoringModel(network, new NetworkInput(format, manifest.ChannelMean, manifest.ChannelStd), manifest.ClassCount, device),
            classes, manifest.Architecture, manifest.GhostBatchSize, manifest.LabelColumnName, manifest.FeatureColumnName,
            manifest.ScoreColumnName, manifest.PredictedLabelColumnName, Math.Max(1, manifest.ScoringBatchSize));
    }
}
