using Ghost.ML.Classification;
using Ghost.ML.Hosting;
using Ghost.ML.Persistence;
using Ghost.ML.Scoring;
using Microsoft.ML;
using Microsoft.ML.Data;
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
/// network is in evaluation mode for the transformer's whole life, so scoring from several threads is safe. The
/// look-ahead cursor and the one serving the other columns read the input side by side, so the input must give the
/// same rows in the same order to every cursor (as ML.NET's loaders do). Scoring takes no cancellation token: it
/// stops when its consumer stops reading rows.
/// </para>
/// <para>
/// Save with <see cref="Save(string)"/> and load with <see cref="Load(MLContext, string, string)"/>; <c>mlContext.Model.Save</c>
/// cannot store a third-party transformer's weights and throws <see cref="NotSupportedException"/>.
/// </para>
/// </remarks>
public sealed class GhostBatchNormClassificationTransformer : ITransformer, IDisposable
{
    private readonly TrainedClassifier _classifier;
    private readonly ScoringModel _model;
    private int _scoringBatchSize;
    private bool _disposed;

    /// <summary>Scores with <paramref name="classifier"/>, which the transformer then owns.</summary>
    internal GhostBatchNormClassificationTransformer(TrainedClassifier classifier)
    {
        _classifier = classifier;
        _model = new ScoringModel(classifier);
        ScoringBatchSize = classifier.ScoringBatchSize;
    }

    /// <summary>The trained network and its metadata (for benchmarks that time the network bare).</summary>
    internal TrainedClassifier Classifier => _classifier;

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
    public int ClassCount => _classifier.Classes.Count;

    /// <summary>The feature column the model reads.</summary>
    public string FeatureColumnName => _classifier.Columns.Feature;

    /// <summary>True: the transformer maps rows one to one, so <c>PredictionEngine</c> can use it.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>Loads a model saved by <see cref="Save(string)"/> from a <see cref="GhostBatchNormImageClassifier"/>.</summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="path">The saved model.</param>
    /// <param name="device">
    /// Where the model scores, by the rule of <see cref="GhostBatchNormTrainingOptions.Device"/>: "auto" (the default:
    /// CUDA when available, else the CPU), "cpu", "cuda" or "cuda:N".
    /// </param>
    /// <remarks>Load only trusted files: they are read with TorchSharp's deserializer.</remarks>
    /// <exception cref="ArgumentException"><paramref name="device"/> is not a device name.</exception>
    /// <exception cref="InvalidDataException">The file is not a saved Ghost.ML model.</exception>
    /// <exception cref="NotSupportedException">The file was written by a newer Ghost.ML.</exception>
    /// <exception cref="InvalidOperationException">
    /// The model was trained by <see cref="GhostBatchNormTrainer"/> (use the overload that takes the model factory), or
    /// CUDA was asked for and is not available.
    /// </exception>
    public static GhostBatchNormClassificationTransformer Load(MLContext mlContext, string path, string device = "auto")
    {
        using var file = OpenForLoad(mlContext, path);
        return LoadCore(mlContext, file, null, device);
    }

    /// <inheritdoc cref="Load(MLContext, string, string)"/>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="stream">The saved model; it stays open.</param>
    /// <param name="device">Where the model scores: "auto" (the default), "cpu", "cuda" or "cuda:N".</param>
    public static GhostBatchNormClassificationTransformer Load(MLContext mlContext, Stream stream, string device = "auto") =>
        LoadCore(mlContext, stream, null, device);

    /// <summary>Loads a model saved from a <see cref="GhostBatchNormTrainer"/>, rebuilding its network with <paramref name="modelFactory"/>.</summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="path">The saved model.</param>
    /// <param name="modelFactory">The factory the model was trained with (takes the class count); used for image classifiers' files too when given.</param>
    /// <param name="device">Where the model scores: "auto" (the default), "cpu", "cuda" or "cuda:N".</param>
    /// <inheritdoc cref="Load(MLContext, string, string)" path="/exception"/>
    public static GhostBatchNormClassificationTransformer Load(MLContext mlContext, string path, Func<int, nn.Module<Tensor, Tensor>> modelFactory, string device = "auto")
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        using var file = OpenForLoad(mlContext, path);
        return LoadCore(mlContext, file, modelFactory, device);
    }

    /// <inheritdoc cref="Load(MLContext, string, Func{int, nn.Module{Tensor, Tensor}}, string)"/>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="stream">The saved model; it stays open.</param>
    /// <param name="modelFactory">The factory the model was trained with (takes the class count).</param>
    /// <param name="device">Where the model scores: "auto" (the default), "cpu", "cuda" or "cuda:N".</param>
    public static GhostBatchNormClassificationTransformer Load(MLContext mlContext, Stream stream, Func<int, nn.Module<Tensor, Tensor>> modelFactory, string device = "auto")
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        return LoadCore(mlContext, stream, modelFactory, device);
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

    /// <summary>Always throws: ML.NET's model files cannot hold a third-party transformer.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) => throw new NotSupportedException(
        $"{nameof(GhostBatchNormClassificationTransformer)} cannot be saved with MLContext.Model.Save (ML.NET's model format is closed to third-party transformers). "
        + $"Save it with transformer.Save(path) and load it with {nameof(GhostBatchNormClassificationTransformer)}.Load(mlContext, path); "
        + "save the ML.NET transformers before and after it with MLContext.Model.Save.");

    /// <summary>Saves the model (weights, label values, input settings) to a versioned zip file.</summary>
    /// <remarks>The file is written beside <paramref name="path"/> first and moved there when complete.</remarks>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ClassifierPackage.Save(path, _classifier with { ScoringBatchSize = ScoringBatchSize });
    }

    /// <summary>Saves the model to <paramref name="stream"/>, which stays open.</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ClassifierPackage.Save(stream, _classifier with { ScoringBatchSize = ScoringBatchSize });
    }

    /// <summary>Releases the network's native memory.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _classifier.Dispose();
        }
    }

    private ScoringBinding Bind(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ScoringBinding(_model, _classifier.Classes, _classifier.Columns.Outputs, FeatureColumnName, inputSchema);
    }

    private static GhostBatchNormClassificationTransformer LoadCore(MLContext mlContext, Stream stream, Func<int, nn.Module<Tensor, Tensor>>? modelFactory, string device)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(stream);
        var target = TorchDevice.Resolve(device, nameof(device));
        return new GhostBatchNormClassificationTransformer(ClassifierPackage.Load(stream, target, modelFactory));
    }

    private static FileStream OpenForLoad(MLContext mlContext, string path)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return File.OpenRead(path);
    }
}
