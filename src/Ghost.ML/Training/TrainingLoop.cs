using System.Diagnostics;
using System.Globalization;
using Ghost.ML.Features;
using Ghost.ML.Hosting;
using Ghost.ML.Torch;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>
/// The one training engine behind both estimators: reads and decodes the data once into memory, builds the network,
/// applies the ghost surgery, and runs SGD with warm-up and cosine decay, validating and reporting every epoch.
/// </summary>
internal sealed class TrainingLoop
{
    /// <summary>Samples per forward pass when validating (no gradients, so larger than training batches pays).</summary>
    private const int ValidationBatchSize = 256;

    private readonly GhostBatchNormTrainingOptions _options;
    private readonly TrainingColumns _columns;
    private readonly IChannel _channel;
    private readonly FitCancellation _cancellation;

    /// <summary>Creates the loop.</summary>
    /// <param name="options">The settings (already validated).</param>
    /// <param name="columns">The label and feature columns.</param>
    /// <param name="channel">Where progress is logged.</param>
    /// <param name="cancellation">Checked before every batch and chunk of rows read.</param>
    public TrainingLoop(GhostBatchNormTrainingOptions options, TrainingColumns columns, IChannel channel, FitCancellation cancellation)
    {
        _options = options;
        _columns = columns;
        _channel = channel;
        _cancellation = cancellation;
    }

    /// <summary>Trains a network on <paramref name="data"/>.</summary>
    /// <param name="data">The training set.</param>
    /// <param name="seed">Seed for initialization, shuffling and augmentation.</param>
    /// <param name="createModel">Builds the untrained network (on the CPU) for the settled sample format and class count.</param>
    /// <param name="standardizeInput">Whether the input is standardized per channel with the training set's statistics (unless a normalization is given).</param>
    /// <param name="pretrained">The weights to start from, or null to start from a random initialization.</param>
    /// <exception cref="InvalidDataException">The data cannot be used (empty, one class, undecodable value), or the weights do not fit.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">The cancellation token or the ML.NET context was cancelled.</exception>
    public TrainedNetwork Run(IDataView data, int seed, Func<FeatureFormat, int, nn.Module<Tensor, Tensor>> createModel, bool standardizeInput,
        PretrainedStart? pretrained)
    {
        _cancellation.ThrowIfCancellationRequested();
        int classCount = TrainingColumns.ClassCount(_columns.Label(data.Schema, "training set"));
        using var allocator = _options.TuneNativeAllocator ? NativeAllocatorTuning.Acquire() : null;
        if (allocator is not null)
        {
            _channel.Trace(MessageSensitivity.None, "glibc malloc set to keep freed memory in the process while training (TuneNativeAllocator).");
        }

        var device = TorchDevice.Resolve(_options.Device, nameof(GhostBatchNormTrainingOptions.Device));
        var clock = Stopwatch.StartNew();
        using var sets = ReadSets(data, classCount, seed);
        var (train, validation) = (sets.Train, sets.Validation);
        Info($"Read {train.Count} training samples of shape [{string.Join(", ", train.Format.SampleShape)}]"
            + (validation is null ? string.Empty : $" and {validation.Count} validation samples")
            + $" in {clock.Elapsed.TotalSeconds:F1} s; {classCount} classes; device {device}.");

        var input = InputFor(train, standardizeInput, pretrained?.SavedNormalization);
        torch.manual_seed(seed);
        var model = createModel(train.Format, classCount);
        try
        {
            var start = pretrained?.LoadInto(model, classCount, _channel);
            ApplySurgery(model);
            model.to(device);
            Optimize(model, input, train, validation, device, seed, clock, FineTuningSchedule.For(model, _options, start, _channel));
            return new TrainedNetwork(model, input, device);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Reads the training set and the validation set: the given one, or a stratified hold-out of the training set.</summary>
    private TrainingSets ReadSets(IDataView data, int classCount, int seed)
    {
        var train = LabeledSamples.Read(data, _columns, _columns.Format, "training set", _cancellation);
        try
        {
            CheckTrainingSet(train, classCount);
            if (_options.ValidationSet is { } validationSet)
            {
                if (_options.ValidationSetFraction > 0)
                {
                    _channel.Warning(MessageSensitivity.None, "ValidationSetFraction is ignored: a ValidationSet is given.");
                }

                return new TrainingSets(train, ReadValidationSet(validationSet, train.Format, classCount));
            }

            if (_options.ValidationSetFraction == 0)
            {
                return new TrainingSets(train, null);
            }

            var (trainIndices, validationIndices) = HoldOut.Split(train.Labels, _options.ValidationSetFraction, seed);
            if (validationIndices.Length == 0)
            {
                throw new ArgumentOutOfRangeException(nameof(GhostBatchNormTrainingOptions.ValidationSetFraction), _options.ValidationSetFraction,
                    $"ValidationSetFraction {_options.ValidationSetFraction} of {train.Count} training samples holds out none: raise it or give a ValidationSet.");
            }

            var sets = new TrainingSets(train.Select(trainIndices), train.Select(validationIndices));
            Info(string.Create(CultureInfo.InvariantCulture,
                $"Held out {validationIndices.Length} of {train.Count} training samples for validation (ValidationSetFraction {_options.ValidationSetFraction}, stratified by class); {trainIndices.Length} train."));
            train.Dispose();
            return sets;
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    /// <summary>The input stage: a given normalization, else the saved model's, else the training set's statistics or none.</summary>
    private NetworkInput InputFor(LabeledSamples train, bool standardize, InputNormalization? saved)
    {
        if ((_options.InputNormalization ?? saved) is { } normalization)
        {
            var (mean, std) = normalization.ForChannels(train.Format.SampleShape[0]);
            Info($"Input normalized with {new InputNormalization(mean, std)}.");
            return new NetworkInput(train.Format, mean, std);
        }

        return standardize ? NetworkInput.Standardized(train.Format, train.Samples) : new NetworkInput(train.Format);
    }

    private LabeledSamples ReadValidationSet(IDataView validationSet, FeatureFormat format, int classCount)
    {
        int validationClasses = TrainingColumns.ClassCount(_columns.Label(validationSet.Schema, "validation set"));
        if (validationClasses != classCount)
        {
            throw new ArgumentOutOfRangeException(nameof(validationSet),
                $"The validation set's label column '{_columns.LabelColumnName}' has {validationClasses} classes and the training set's has {classCount}: key both with the same fitted MapValueToKey transformer.");
        }

        return LabeledSamples.Read(validationSet, _columns, format, "validation set", _cancellation);
    }

    private void CheckTrainingSet(LabeledSamples train, int classCount)
    {
        if (train.SkippedRows > 0)
        {
            _channel.Warning(MessageSensitivity.None, $"{train.SkippedRows} training rows have no label (missing key value) and were left out.");
        }

        int distinct = train.DistinctClasses();
        if (distinct < 2)
        {
            throw new InvalidDataException(
                $"The training set holds a single class (of the {classCount} in label column '{_columns.LabelColumnName}'); a classifier needs at least two.");
        }
    }

    private void ApplySurgery(nn.Module<Tensor, Tensor> model)
    {
        if (_options.GhostBatchSize == 0)
        {
            Info("GhostBatchSize is 0: training with plain BatchNorm.");
            return;
        }

        int replaced = model.ApplyGhostBatchNorm(_options.GhostBatchSize);
        bool hasGhostLayers = replaced > 0 || model.modules().Any(module => module is GhostBatchNorm);
        if (hasGhostLayers)
        {
            Info($"Ghost BatchNorm with {_options.GhostBatchSize} samples per ghost batch ({replaced} BatchNorm layers replaced).");
        }
        else
        {
            _channel.Warning(MessageSensitivity.None, "The model has no BatchNorm layer: GhostBatchSize has no effect.");
        }
    }

    private void Optimize(nn.Module<Tensor, Tensor> model, NetworkInput input, LabeledSamples train, LabeledSamples? validation,
        Device device, int seed, Stopwatch clock, FineTuningSchedule fineTuning)
    {
        long count = train.Count;
        int batchSize = (int)Math.Min(_options.BatchSize, count);
        // A one-sample tail batch would give BatchNorm a single value per channel on 2-D input: leave it out
        // (the shuffle puts a different sample there every epoch).
        long usable = count % batchSize == 1 && count > batchSize ? count - 1 : count;
        long stepsPerEpoch = (usable + batchSize - 1) / batchSize;
        var schedule = new WarmupCosineSchedule(_options.LearningRate, (long)Math.Round(_options.WarmupEpochs * stepsPerEpoch),
            stepsPerEpoch * _options.Epoch, _options.CosineDecay);
        var augmentation = new ImageAugmentation(_options.RandomCropPadding, _options.HorizontalFlip);
        bool augment = augmentation.IsActive && train.Format.IsImageShaped;
        var criterion = _options.EarlyStoppingCriteria;
        var earlyStopping = criterion is null ? null : new EarlyStoppingTracker(criterion);
        using var best = criterion?.RestoreBestWeights == true ? new BestWeights() : null;

        using var optimizer = fineTuning.CreateOptimizer(_options);
        using var generator = new Generator((ulong)seed);
        long step = 0;
        int epoch = 1;
        for (; epoch <= _options.Epoch; epoch++)
        {
            model.train();
            fineTuning.BeginEpoch(epoch);
            double lossSum = 0;
            long correct = 0;
            double learningRate = 0;
            var epochClock = Stopwatch.StartNew();
            using var order = torch.randperm(count, generator: generator);
            for (long start = 0; start < usable; start += batchSize, step++)
            {
                _cancellation.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                var indices = order.narrow(0, start, Math.Min(batchSize, usable - start));
                var images = input.Prepare(train.Samples.index_select(0, indices), device);
                if (augment)
                {
                    images = augmentation.Apply(images, generator);
                }

                var labels = train.Labels.index_select(0, indices).to(device);
                learningRate = schedule.At(step);
                fineTuning.SetLearningRate(optimizer, learningRate);
                var (loss, hits) = Step(model, optimizer, images, labels, epoch, step);
                lossSum += loss * indices.shape[0];
                correct += hits;
            }

            double seconds = epochClock.Elapsed.TotalSeconds;
            var (validationLoss, validationAccuracy) = validation is null
                ? ((double?)null, (double?)null)
                : Evaluate(model, input, validation, device);
            var metrics = new GhostBatchNormEpochMetrics(epoch, lossSum / usable, (double)correct / usable, validationLoss,
                validationAccuracy, learningRate, usable / Math.Max(seconds, 1e-9), clock.Elapsed);
            Info(metrics.ToString());
            _options.MetricsCallback?.Invoke(metrics);
            _cancellation.ThrowIfCancellationRequested();
            bool stop = earlyStopping?.ShouldStop(metrics) == true;
            if (best is not null && earlyStopping!.LastWasBest)
            {
                best.Keep(model, epoch);
            }

            if (stop)
            {
                Info($"Early stopping after epoch {epoch}: no improvement in {criterion!.Metric} for {criterion.Patience} epochs.");
                break;
            }
        }

        fineTuning.EndTraining();
        if (best is not null)
        {
            KeepBest(model, best, Math.Min(epoch, _options.Epoch), validation is null ? "training" : "validation");
        }
    }

    /// <summary>Puts the best epoch's weights back when training ended on another one, and logs which epoch is kept.</summary>
    private void KeepBest(nn.Module model, BestWeights best, int lastEpoch, string measuredOn)
    {
        var metric = $"{measuredOn} {_options.EarlyStoppingCriteria!.Metric.ToString().ToLowerInvariant()}";
        if (best.Epoch == lastEpoch)
        {
            Info($"Kept the weights of the last epoch, {lastEpoch}: the best by {metric}.");
            return;
        }

        best.Restore(model);
        Info($"Kept the weights of epoch {best.Epoch}, the best by {metric}, instead of the last epoch's ({lastEpoch}) (RestoreBestWeights).");
    }

    /// <summary>One optimizer step; returns the batch's mean loss and how many samples it classified correctly.</summary>
    /// <exception cref="InvalidOperationException">The loss is NaN or infinite.</exception>
    private (float Loss, long Correct) Step(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor images, Tensor labels,
        int epoch, long step)
    {
        var logits = model.call(images);
        var loss = nn.functional.cross_entropy(logits, labels);
        float lossValue = loss.item<float>();
        if (!float.IsFinite(lossValue))
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Training diverged: the loss became {lossValue} at epoch {epoch}, step {step + 1}. Lower the LearningRate (now {_options.LearningRate}), e.g. by a factor of 10, or lengthen WarmupEpochs."));
        }

        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        return (lossValue, logits.argmax(1).eq(labels).sum().item<long>());
    }

    /// <summary>Mean loss and accuracy over every sample of <paramref name="data"/> (sums over batches, then one division).</summary>
    private static (double? Loss, double? Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, NetworkInput input, LabeledSamples data, Device device)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        double lossSum = 0;
        long correct = 0;
        for (long start = 0; start < data.Count; start += ValidationBatchSize)
        {
            using var scope = torch.NewDisposeScope();
            long length = Math.Min(ValidationBatchSize, data.Count - start);
            var logits = model.call(input.Prepare(data.Samples.narrow(0, start, length), device));
            var labels = data.Labels.narrow(0, start, length).to(device);
            lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(labels).sum().item<long>();
        }

        model.train();
        return (lossSum / data.Count, (double)correct / data.Count);
    }

    private void Info(string message) => _channel.Info(MessageSensitivity.None, message);
}
