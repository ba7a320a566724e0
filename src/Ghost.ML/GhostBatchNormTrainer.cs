using Ghost.ML.Features;
using Ghost.ML.Classification;
using Ghost.ML.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Ghost.ML;

/// <summary>
/// Trains your own TorchSharp classifier on a float-vector feature column with Ghost BatchNorm: every BatchNorm
/// layer of the network the factory builds is replaced by a Ghost BatchNorm layer, then the network is trained with
/// the same engine as <see cref="GhostBatchNormImageClassifier"/>.
/// </summary>
/// <remarks>
/// Input: a key-typed label column and a vector of Single of <see cref="Options.FeatureShape"/>'s size; each row is
/// reshaped to that shape, so the network receives [batch, ...FeatureShape]. Values are passed as they are (no
/// scaling) unless <see cref="GhostBatchNormTrainingOptions.InputNormalization"/> is set. Output: <c>Score</c> and <c>PredictedLabel</c>, as ML.NET's multiclass trainers add them.
/// </remarks>
/// <example>
/// <code>
/// var trainer = new GhostBatchNormTrainer(mlContext,
///     classes => nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, classes)),
///     new GhostBatchNormTrainer.Options { FeatureShape = [64], GhostBatchSize = 16 });
/// </code>
/// </example>
public sealed class GhostBatchNormTrainer : IEstimator<GhostBatchNormClassificationTransformer>
{
    private readonly IHostEnvironment _environment;
    private readonly Func<int, nn.Module<Tensor, Tensor>> _modelFactory;
    private readonly Options _options;

    /// <summary>Creates the trainer.</summary>
    /// <param name="mlContext">The ML.NET context (logging, seed).</param>
    /// <param name="modelFactory">Builds the untrained network on the CPU for a class count; its output must be [batch, classes] logits.</param>
    /// <param name="options">The settings; checked here and again when <see cref="Fit"/> runs.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">An option is out of range; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public GhostBatchNormTrainer(MLContext mlContext, Func<int, nn.Module<Tensor, Tensor>> modelFactory, Options options)
        : this((IHostEnvironment)mlContext, modelFactory, options)
    {
    }

    internal GhostBatchNormTrainer(IHostEnvironment environment, Func<int, nn.Module<Tensor, Tensor>> modelFactory, Options options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(modelFactory);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _environment = environment;
        _modelFactory = modelFactory;
        _options = options;
    }

    /// <summary>Trains the network on <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range, or a column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidDataException">The data cannot be used (empty, one class, a vector of the wrong size, a NaN or infinite value).</exception>
    /// <exception cref="InvalidOperationException">The network's output is not [batch, classes] (checked on the first batch, before any step), or the loss became NaN.</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token or the MLContext was cancelled.</exception>
    public GhostBatchNormClassificationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _options.Validate();
        var format = new FloatVectorFormat(SampleShape(input.Schema));
        var classifier = ClassifierTraining.Fit(_environment, nameof(GhostBatchNormTrainer), _options, input,
            format, TrainedClassifier.CustomArchitecture, (_, classes) => _modelFactory(classes), standardizeInput: false);
        return new GhostBatchNormClassificationTransformer(classifier with { ModelFactoryName = _options.ModelFactoryName });
    }

    /// <summary>The input columns plus Score and PredictedLabel.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var columns = new TrainingColumns(_options.LabelColumnName, _options.FeatureColumnName, new FloatVectorFormat(_options.FeatureShape ?? [1]));
        columns.Check(inputSchema);
        var label = inputSchema.Last(column => column.Name == _options.LabelColumnName);
        return new OutputColumns(_options.ScoreColumnName, _options.PredictedLabelColumnName).Shape(inputSchema, label);
    }

    private long[] SampleShape(DataViewSchema schema)
    {
        if (_options.FeatureShape is { } shape)
        {
            return shape;
        }

        return schema.GetColumnOrNull(_options.FeatureColumnName)?.Type switch
        {
            VectorDataViewType { IsKnownSize: true } vector => [vector.Size],
            VectorDataViewType { ItemType: NumberDataViewType item } when item == NumberDataViewType.Single =>
                throw new ArgumentOutOfRangeException(nameof(schema),
                    $"Feature column '{_options.FeatureColumnName}' is a vector of variable size: set Options.FeatureShape."),

            // A missing column or one of the wrong type: the column check that follows names the problem.
            _ => [1],
        };
    }

    /// <summary>Settings of <see cref="GhostBatchNormTrainer"/>. Augmentation is off by default (set it for image-shaped samples).</summary>
    public sealed class Options : GhostBatchNormTrainingOptions
    {
        /// <summary>
        /// Shape of one sample, e.g. [1, 28, 28] for grey images (then random crop and flip apply) or [64]; the feature
        /// column holds that many Singles per row. Null (the default) takes the column's vector size as a flat shape.
        /// </summary>
        public long[]? FeatureShape;

        /// <summary>
        /// The name the model stores for its network factory, so that <c>mlContext.Model.Load</c> can rebuild the
        /// network: register the same factory under this name with <see cref="GhostBatchNormModelFactories.Register"/>
        /// before loading. Null (the default) leaves the model to <see cref="GhostBatchNormClassificationTransformer.Save(string)"/>
        /// and the <c>Load</c> overload that takes the factory; <c>mlContext.Model.Save</c> then refuses it.
        /// </summary>
        public string? ModelFactoryName;

        internal override void Validate()
        {
            base.Validate();
            if (ModelFactoryName is { } name && string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException($"{nameof(ModelFactoryName)} must be null or a name; it is \"{name}\".", nameof(ModelFactoryName));
            }

            if (FeatureShape is { } shape && (shape.Length == 0 || shape.Any(dimension => dimension < 1)))
            {
                throw new ArgumentOutOfRangeException(nameof(FeatureShape), $"FeatureShape must list positive dimensions; got [{string.Join(", ", shape)}].");
            }
        }
    }
}
