using Ghost.ML.Classification;
using Ghost.ML.Export;
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
/// Save with <see cref="Save(string)"/> and load with <see cref="Load(MLContext, string, string)"/>, or save the whole chain
/// with <c>mlContext.Model.Save</c> and load it with <c>mlContext.Model.Load</c>: the ML.NET model file holds the
/// same payload.
/// </para>
/// </remarks>
public sealed partial class GhostBatchNormClassificationTransformer : ITransformer, IDisposable
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
    /// The model was trained by <see cref="GhostBatchNormTrainer"/> and its factory is not registered under the model's
    /// <see cref="GhostBatchNormTrainer.Options.ModelFactoryName"/> (register it with <see cref="GhostBatchNormModelFactories.Register"/>
    /// or use the overload that takes the model factory), or CUDA was asked for and is not available.
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

    /// <summary>
    /// Saves the model as ONNX, from pixels (or feature values) to class probabilities, to score with ONNX Runtime or
    /// ML.NET's <c>ApplyOnnxModel</c> without Ghost.ML or libtorch.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Input <c>input</c>, float32 with a dynamic batch size N: for images [N, C, ImageHeight, ImageWidth], pixel
    /// values 0–255 as decoded and resized, grey (C = 1) or R, G, B (C = 3) as the model was trained; for a float
    /// vector column, its values unchanged, reshaped to [N, ..sample shape]. The scaling and per-channel
    /// standardization the transformer applies are inside the graph, BatchNorm is folded into the layers before it.
    /// Output <c>Score</c>: float32 [N, classes], the probabilities this transformer's Score column holds.
    /// </para>
    /// <para>
    /// Metadata (<c>metadata_props</c>): <c>ghostml.class_names</c>, the label values as a JSON array of strings
    /// (element i is Score slot i; absent when the label had no key values), <c>ghostml.label_type</c>,
    /// <c>ghostml.label_column</c>, <c>ghostml.feature_column</c>, <c>ghostml.input</c> (<c>pixels_0_255</c> or
    /// <c>feature_vector</c>), <c>ghostml.architecture</c> and <c>ghostml.ghost_batch_size</c>.
    /// </para>
    /// </remarks>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <exception cref="NotSupportedException">The network has a module the ONNX exporter does not support (the message names it); nothing is written.</exception>
    public void SaveAsOnnx(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ClassifierOnnxExport.Save(_classifier, path);
    }

    /// <inheritdoc cref="SaveAsOnnx(string)"/>
    /// <param name="stream">A writable stream; it stays open.</param>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not writable.</exception>
    public void SaveAsOnnx(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ClassifierOnnxExport.Save(_classifier, stream);
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
