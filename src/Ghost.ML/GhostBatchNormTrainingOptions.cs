using Microsoft.ML;

namespace Ghost.ML;

/// <summary>
/// Settings shared by <see cref="GhostBatchNormImageClassifier"/> and <see cref="GhostBatchNormTrainer"/>: columns,
/// Ghost BatchNorm, optimizer, schedule, augmentation, validation, device and scoring. The defaults train a network
/// from scratch: SGD with Nesterov momentum, weight decay, one epoch of linear warm-up, then cosine decay per step.
/// </summary>
public abstract class GhostBatchNormTrainingOptions
{
    /// <summary>The label column: a key type (e.g. from <c>MapValueToKey</c>) whose cardinality is the class count. Default "Label".</summary>
    public string LabelColumnName = "Label";

    /// <summary>The feature column. Default "Features".</summary>
    public string FeatureColumnName = "Features";

    /// <summary>The output column of class probabilities (vector of Single, one per class). Default "Score".</summary>
    public string ScoreColumnName = "Score";

    /// <summary>The output column of the predicted class, a key with the label's key values. Default "PredictedLabel".</summary>
    public string PredictedLabelColumnName = "PredictedLabel";

    /// <summary>
    /// Samples per ghost batch: every BatchNorm layer of the network is replaced by a Ghost BatchNorm layer that
    /// normalizes each ghost batch of this many samples on its own. 0 keeps plain BatchNorm (the baseline). Default 32.
    /// </summary>
    public int GhostBatchSize = 32;

    /// <summary>Samples per optimizer step. Default 128.</summary>
    public int BatchSize = 128;

    /// <summary>Passes over the training set. Default 30.</summary>
    public int Epoch = 30;

    /// <summary>Peak learning rate, reached at the end of the warm-up. Default 0.1.</summary>
    public float LearningRate = 0.1f;

    /// <summary>SGD momentum, from 0 up to (not including) 1. Default 0.9.</summary>
    public float Momentum = 0.9f;

    /// <summary>Whether SGD uses Nesterov momentum. Default true.</summary>
    public bool Nesterov = true;

    /// <summary>L2 weight decay. Default 5e-4.</summary>
    public float WeightDecay = 5e-4f;

    /// <summary>Epochs over which the learning rate rises linearly from 0 to <see cref="LearningRate"/>; at most <see cref="Epoch"/>. Default 1.</summary>
    public float WarmupEpochs = 1f;

    /// <summary>
    /// Whether the learning rate then follows a cosine from <see cref="LearningRate"/> down to 0 at the last step;
    /// when false it stays at <see cref="LearningRate"/>. Default true.
    /// </summary>
    public bool CosineDecay = true;

    /// <summary>
    /// Seed for weight initialization, shuffling and augmentation. Null takes one from the MLContext's random source,
    /// so <c>new MLContext(seed)</c> alone also makes training repeatable. Same seed, data and CPU: same weights.
    /// </summary>
    public int? Seed;

    /// <summary>Data to measure loss and accuracy on after every epoch (same columns as the training data), or null.</summary>
    public IDataView? ValidationSet;

    /// <summary>
    /// Fraction of the training data to hold out for validation when <see cref="ValidationSet"/> is null: that many
    /// samples of each class, picked with <see cref="Seed"/>, are measured after every epoch and not trained on.
    /// From 0 (the default: no hold-out) to below 1; ignored when a ValidationSet is given.
    /// </summary>
    public float ValidationSetFraction;

    /// <summary>Called once per epoch with that epoch's metrics.</summary>
    public Action<GhostBatchNormEpochMetrics>? MetricsCallback;

    /// <summary>When to stop before <see cref="Epoch"/> epochs; null (the default) trains every epoch.</summary>
    public GhostBatchNormEarlyStopping? EarlyStoppingCriteria;

    /// <summary>
    /// A file of weights to start from instead of a random initialization, loaded before the ghost surgery:
    /// a PyTorch <c>state_dict</c> (<c>torch.save(model.state_dict(), path)</c>, <c>.pt</c>/<c>.pth</c>), a
    /// <c>.safetensors</c> file, a TorchSharp <c>module.save</c> file (<c>.dat</c>), or a model saved by Ghost.ML
    /// (<c>transformer.Save</c>, or <c>mlContext.Model.Save</c> of a chain holding it; training continues from it, with
    /// its <see cref="InputNormalization"/>). The format is told from the content.
    /// The weights must be of the same architecture; when their class count differs, the classifier (the last Linear
    /// layer) is replaced by a new one, and a colour stem is summed over its input channels for grey input. Nothing
    /// is downloaded. Null (the default) trains from scratch.
    /// </summary>
    public string? PretrainedWeightsPath;

    /// <summary>
    /// Per-channel mean and deviation the input is standardized with, saved with the model; e.g.
    /// <see cref="Ghost.ML.InputNormalization.ImageNet"/> for TorchVision's weights. Null (the default): the saved
    /// model's normalization when continuing from a Ghost.ML model, else the image classifier measures the training
    /// set's statistics and GhostBatchNormTrainer passes values as they are.
    /// </summary>
    public InputNormalization? InputNormalization;

    /// <summary>
    /// Epochs at the start during which only the classifier (the network's last Linear layer) trains and the rest
    /// (the backbone) stays as it is; BatchNorm statistics still adapt to the data. Null (the default): 1 when
    /// <see cref="PretrainedWeightsPath"/> gave weights whose classifier was replaced, else 0.
    /// </summary>
    public int? FreezeBackboneEpochs;

    /// <summary>
    /// The backbone's learning rate as a fraction of the classifier's (<see cref="LearningRate"/>), from 0 to 1 and
    /// beyond. Null (the default): 0.1 when <see cref="PretrainedWeightsPath"/> is set, else 1. For fine-tuning, a
    /// <see cref="LearningRate"/> of about 0.01 usually suits better than the default 0.1.
    /// </summary>
    public float? BackboneLearningRateFactor;

    /// <summary>
    /// Augmentation for image-shaped (C×H×W) samples: each training sample is zero-padded by this many pixels on
    /// every side and a random window of the original size is cropped. 0 turns it off.
    /// </summary>
    public int RandomCropPadding;

    /// <summary>
    /// Augmentation for image-shaped samples: mirror half of the training samples left to right. Turn it off where
    /// mirroring changes the class (digits, text).
    /// </summary>
    public bool HorizontalFlip;

    /// <summary>
    /// Where to train: "auto" (CUDA when <c>torch.cuda.is_available()</c>, else CPU; the default), "cpu", "cuda" or
    /// "cuda:N". CUDA needs the CUDA TorchSharp backend in the application.
    /// </summary>
    public string Device = "auto";

    /// <summary>Rows per forward pass when the trained model scores data; see <see cref="GhostBatchNormClassificationTransformer.ScoringBatchSize"/>. Default 64.</summary>
    public int ScoringBatchSize = 64;

    /// <summary>
    /// On Linux with glibc, keep freed native memory in the process while training (<c>mallopt</c>) instead of
    /// returning each large tensor to the operating system and page-faulting it back on the next step. Default true.
    /// The setting is process-wide while any Fit runs; when the last running Fit returns, glibc's settings are put
    /// back and the kept memory is returned to the system.
    /// </summary>
    public bool TuneNativeAllocator = true;

    /// <summary>
    /// Most bytes of decoded training samples to keep in memory between epochs, or null (the default) for a quarter of
    /// the memory available to the process (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>: the RAM, or the
    /// container's limit). A training set that fits is decoded once and cached; a larger one is read from the
    /// IDataView and decoded again every epoch, shuffled with the same seed in rounds of this many bytes, so memory
    /// stays bounded whatever the data set's size. The validation set gets what the training set leaves. 0 always
    /// streams. A quarter leaves the rest for the network, its activations and the rest of the application; streaming
    /// costs a decode of every image per epoch, so raise the budget when the memory is there.
    /// </summary>
    public long? TrainingCacheBudgetBytes;

    /// <summary>Bytes per cache chunk (about); small values let tests reach chunk boundaries with tiny data.</summary>
    internal long CacheChunkBytes = 64L << 20;

    /// <summary>
    /// Cancels training; checked before every batch. Fit then throws <see cref="OperationCanceledException"/>, as it
    /// does when the MLContext's execution is cancelled (<c>MLContext.CancelExecution</c>). Scoring does not read it:
    /// Transform is lazy, so scoring stops when its consumer stops reading rows.
    /// </summary>
    public CancellationToken CancellationToken;

    /// <summary>Throws when a setting is out of range, naming it; the estimators call it when constructed and in Fit.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; <see cref="ArgumentException.ParamName"/> is its name.</exception>
    internal virtual void Validate()
    {
        CheckColumnName(LabelColumnName, nameof(LabelColumnName));
        CheckColumnName(FeatureColumnName, nameof(FeatureColumnName));
        CheckColumnName(ScoreColumnName, nameof(ScoreColumnName));
        CheckColumnName(PredictedLabelColumnName, nameof(PredictedLabelColumnName));
        CheckAtLeast(GhostBatchSize, 0, nameof(GhostBatchSize));
        CheckAtLeast(BatchSize, 1, nameof(BatchSize));
        CheckAtLeast(Epoch, 1, nameof(Epoch));
        CheckAtLeast(RandomCropPadding, 0, nameof(RandomCropPadding));
        CheckAtLeast(ScoringBatchSize, 1, nameof(ScoringBatchSize));
        CheckFinite(LearningRate, nameof(LearningRate), allowZero: false);
        CheckFinite(Momentum, nameof(Momentum), allowZero: true);
        CheckFinite(WeightDecay, nameof(WeightDecay), allowZero: true);
        CheckFinite(WarmupEpochs, nameof(WarmupEpochs), allowZero: true);
        if (!float.IsFinite(ValidationSetFraction) || ValidationSetFraction < 0 || ValidationSetFraction >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ValidationSetFraction), ValidationSetFraction, $"{nameof(ValidationSetFraction)} must be from 0 to below 1.");
        }

        if (PretrainedWeightsPath is { } path && string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException($"{nameof(PretrainedWeightsPath)} must name a file or be null.", nameof(PretrainedWeightsPath));
        }

        if (FreezeBackboneEpochs is { } freeze)
        {
            CheckAtLeast(freeze, 0, nameof(FreezeBackboneEpochs));
        }

        if (BackboneLearningRateFactor is { } factor)
        {
            CheckFinite(factor, nameof(BackboneLearningRateFactor), allowZero: true);
        }

        if (Momentum >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, $"{nameof(Momentum)} must be from 0 up to, but not including, 1: at 1 or more past gradients never fade and the steps grow without bound.");
        }

        if (WarmupEpochs > Epoch)
        {
            throw new ArgumentOutOfRangeException(nameof(WarmupEpochs), WarmupEpochs, $"{nameof(WarmupEpochs)} must be at most {nameof(Epoch)} ({Epoch}): a longer warm-up never reaches the LearningRate.");
        }

        if (TrainingCacheBudgetBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TrainingCacheBudgetBytes), TrainingCacheBudgetBytes, $"{nameof(TrainingCacheBudgetBytes)} must be at least 0 (or null for the default).");
        }

        if (Nesterov && Momentum == 0)
        {
            throw new ArgumentException($"Nesterov momentum needs {nameof(Momentum)} > 0.", nameof(Nesterov));
        }

        Hosting.TorchDevice.Parse(Device, nameof(Device));
    }

    /// <summary>The cache budget in bytes: <see cref="TrainingCacheBudgetBytes"/> or its default.</summary>
    internal long CacheBudgetBytes() => TrainingCacheBudgetBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    private protected static void CheckAtLeast(int value, int minimum, string name)
    {
        if (value < minimum)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least {minimum}.");
        }
    }

    private protected static void CheckRange(int value, int minimum, int maximum, string name)
    {
        if (value < minimum || value > maximum)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be from {minimum} to {maximum}.");
        }
    }

    private static void CheckColumnName(string? name, string option)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException($"{option} must name a column; it is {(name is null ? "null" : $"\"{name}\"")}.", option);
        }
    }

    private static void CheckFinite(float value, string name, bool allowZero)
    {
        if (!float.IsFinite(value) || value < 0 || (!allowZero && value == 0))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number {(allowZero ? ">= 0" : "> 0")}.");
        }
    }
}
