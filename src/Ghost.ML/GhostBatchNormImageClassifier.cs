using Ghost.ML.Features;
using Ghost.ML.Classification;
using Ghost.ML.Torch.Models;
using Ghost.ML.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Ghost.ML;

/// <summary>
/// Trains an image classifier, from scratch or from pretrained weights (<see cref="GhostBatchNormTrainingOptions.PretrainedWeightsPath"/>):
/// a ResNet whose BatchNorm layers are replaced by Ghost BatchNorm layers.
/// A drop-in for ML.NET's <c>ImageClassificationTrainer</c> in pipelines such as
/// <c>MapValueToKey → LoadRawImageBytes → GhostBatchNormImageClassifier → MapKeyToValue</c>.
/// </summary>
/// <remarks>
/// <para>
/// Input columns: <c>Label</c>, a key type (from <c>MapValueToKey</c>; the class count is its cardinality), and
/// <c>Features</c>, either encoded image files (the bytes <c>LoadRawImageBytes</c> produces: PNG, JPEG, BMP, any
/// size, grey or colour) or a vector of Single of C×<see cref="Options.ImageHeight"/>×<see cref="Options.ImageWidth"/>
/// pixels (C = 1 or 3). Images are decoded, resized to ImageWidth×ImageHeight with a high-quality filter and kept
/// in memory for every epoch while they fit in <see cref="GhostBatchNormTrainingOptions.TrainingCacheBudgetBytes"/>
/// (else decoded again on every pass); the network reads one grey channel when every training image is grey, else RGB.
/// Pixels are scaled to [0, 1] and standardized per channel with the training set's mean and deviation, or with
/// <see cref="GhostBatchNormTrainingOptions.InputNormalization"/> when it is set.
/// </para>
/// <para>Output columns: <c>Score</c> (a probability per class, with the label's values as slot names) and
/// <c>PredictedLabel</c> (a key with the label's key values, for <c>MapKeyToValue</c>).</para>
/// </remarks>
public sealed class GhostBatchNormImageClassifier : IEstimator<GhostBatchNormClassificationTransformer>
{
    private readonly IHostEnvironment _environment;
    private readonly Options _options;

    /// <summary>Creates the estimator with all settings.</summary>
    /// <param name="mlContext">The ML.NET context (logging, seed).</param>
    /// <param name="options">The settings; checked here and again when <see cref="Fit"/> runs.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">An option is out of range; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public GhostBatchNormImageClassifier(MLContext mlContext, Options options)
        : this((IHostEnvironment)mlContext, options)
    {
    }

    /// <summary>Creates the estimator with default settings.</summary>
    /// <param name="mlContext">The ML.NET context (logging, seed).</param>
    /// <param name="labelColumnName">The key-typed label column.</param>
    /// <param name="featureColumnName">The encoded-image (or pixel vector) column.</param>
    /// <param name="ghostBatchSize">Samples per ghost batch; 0 for plain BatchNorm.</param>
    /// <exception cref="ArgumentException">An argument is out of range; <see cref="ArgumentException.ParamName"/> names the option.</exception>
    public GhostBatchNormImageClassifier(MLContext mlContext, string labelColumnName = "Label", string featureColumnName = "Features", int ghostBatchSize = 32)
        : this(mlContext, new Options { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName, GhostBatchSize = ghostBatchSize })
    {
    }

    internal GhostBatchNormImageClassifier(IHostEnvironment environment, Options options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _environment = environment;
        _options = options;
    }

    /// <summary>Decodes the images and trains the network.</summary>
    /// <exception cref="ArgumentException">An option is out of range, or a column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidDataException">The data cannot be used: empty, a single class, an image that cannot be decoded or a file that cannot be read (the message names the row or file), or a streamed set whose rows changed between passes.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN (lower the learning rate).</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token or the MLContext was cancelled.</exception>
    public GhostBatchNormClassificationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _options.Validate();
        var feature = input.Schema.GetColumnOrNull(_options.FeatureColumnName);
        var format = FormatFor(feature?.Type is VectorDataViewType vector ? vector : null);
        var architecture = _options.Architecture;
        return new GhostBatchNormClassificationTransformer(ClassifierTraining.Fit(_environment, nameof(GhostBatchNormImageClassifier), _options,
            input, format, architecture.ToString(),
            (settled, classes) => ResNetFactory.Create(architecture, classes, (int)settled.SampleShape[0]), standardizeInput: true));
    }

    /// <summary>The input columns plus Score and PredictedLabel.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        // A schema shape has no vector sizes: only the kind of feature column (pixels or encoded images) is checked here.
        var feature = inputSchema.LastOrDefault(column => column.Name == _options.FeatureColumnName);
        var format = feature.ItemType == NumberDataViewType.Single
            ? new FloatVectorFormat([3, _options.ImageHeight, _options.ImageWidth])
            : FormatFor(null);
        new TrainingColumns(_options.LabelColumnName, _options.FeatureColumnName, format).Check(inputSchema);
        var label = inputSchema.Last(column => column.Name == _options.LabelColumnName);
        return new OutputColumns(_options.ScoreColumnName, _options.PredictedLabelColumnName).Shape(inputSchema, label);
    }

    /// <summary>Pixel vectors when the column holds Singles, else encoded images whose channel count the training set decides.</summary>
    private FeatureFormat FormatFor(VectorDataViewType? featureType)
    {
        if (featureType?.ItemType != NumberDataViewType.Single)
        {
            return new EncodedImageFormat(_options.ImageWidth, _options.ImageHeight, channels: null);
        }

        long plane = (long)_options.ImageWidth * _options.ImageHeight;
        return featureType.Size == plane || featureType.Size == 3 * plane
            ? new FloatVectorFormat([featureType.Size / plane, _options.ImageHeight, _options.ImageWidth])
            : throw new ArgumentOutOfRangeException(nameof(featureType),
                $"Feature column '{_options.FeatureColumnName}' holds {(featureType.IsKnownSize ? featureType.Size.ToString(System.Globalization.CultureInfo.InvariantCulture) : "a variable number of")} Singles; pixel vectors must hold 1 or 3 × {_options.ImageHeight} × {_options.ImageWidth} (channels × ImageHeight × ImageWidth).");
    }

    /// <summary>Settings of <see cref="GhostBatchNormImageClassifier"/>.</summary>
    /// <remarks>
    /// Augmentation defaults for images: random crop with 4 pixels of padding and horizontal flip. Turn
    /// <see cref="GhostBatchNormTrainingOptions.HorizontalFlip"/> off for digits, text or anything whose mirror
    /// image is another class.
    /// </remarks>
    public sealed class Options : GhostBatchNormTrainingOptions
    {
        /// <summary>Creates the settings with their defaults.</summary>
        public Options()
        {
            RandomCropPadding = 4;
            HorizontalFlip = true;
        }

        /// <summary>The network. Default <see cref="ResNetArchitecture.ResNet20"/> (CIFAR-style, for small images).</summary>
        public ResNetArchitecture Architecture = ResNetArchitecture.ResNet20;

        /// <summary>Largest <see cref="ImageWidth"/> and <see cref="ImageHeight"/>.</summary>
        public const int MaxImageSize = 1024;

        /// <summary>Width images are resized to; from 8 to <see cref="MaxImageSize"/>. Default 32.</summary>
        public int ImageWidth = 32;

        /// <summary>Height images are resized to; from 8 to <see cref="MaxImageSize"/>. Default 32.</summary>
        public int ImageHeight = 32;

        internal override void Validate()
        {
            base.Validate();
            if (!Enum.IsDefined(Architecture))
            {
                throw new ArgumentOutOfRangeException(nameof(Architecture), Architecture, "Unknown architecture.");
            }

            CheckRange(ImageWidth, 8, MaxImageSize, nameof(ImageWidth));
            CheckRange(ImageHeight, 8, MaxImageSize, nameof(ImageHeight));
        }
    }
}
