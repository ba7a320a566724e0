using System.Diagnostics;
using System.Globalization;
using Ghost.ML.Classification;
using Ghost.ML.Features;
using Ghost.ML.Hosting;
using Ghost.ML.Torch;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>
/// The one training engine behind both estimators: reads the data (cached in memory within the cache budget, else
/// streamed on every pass), builds the network (from pretrained weights when given), applies the ghost surgery, and
/// runs SGD with warm-up and cosine decay, validating and reporting every epoch.
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
        long budget = _options.CacheBudgetBytes();
        using var sets = ReadSets(data, classCount, seed, standardizeInput, budget);
        var (train, validation) = (sets.Train, sets.Validation);
        Info($"Read {train.Count} training samples of shape [{string.Join(", ", train.Format.SampleShape)}]"
            + (validation is null ? string.Empty : $" and {validation.Count} validation samples")
            + $" in {clock.Elapsed.TotalSeconds:F1} s; {classCount} classes; device {device}.");

        var input = InputFor(train, standardizeInput, pretrained?.SavedNormalization);
        using var globalRandom = GlobalTorchRandom.Seed(seed);
        var model = createModel(train.Format, classCount);
        try
        {
            // A replaced classifier head draws its initial weights, so the weights load under the seed's lock.
            var start = pretrained?.LoadInto(model, classCount, _channel);
            if (GlobalTorchRandom.DrawsWhileTraining(model))
            {
                _channel.Trace(MessageSensitivity.None, "The network may draw random numbers while training (dropout or a custom module): other seeded Fits wait until this one ends.");
            }
            else
            {
                globalRandom.Dispose();
            }

            ApplySurgery(model);
            model.to(device);
            Optimize(model, input, train, validation, device, seed, classCount, clock, FineTuningSchedule.For(model, _options, start, _channel));
            return new TrainedNetwork(model, input, device);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Reads the training set and the validation set: the given one, or a stratified hold-out of the training set.</summary>
    private TrainingSets ReadSets(IDataView data, int classCount, int seed, bool measureChannels, long budget)
    {
        var train = LabeledSamples.Read(data, _columns, _columns.Format, "training set", budget, _options.CacheChunkBytes, measureChannels, _cancellation);
        try
        {
            CheckTrainingSet(train, classCount);
            DescribeCache(train, budget);
            if (_options.ValidationSet is { } validationSet)
            {
                if (_options.ValidationSetFraction > 0)
                {
                    _channel.Warning(MessageSensitivity.None, "ValidationSetFraction is ignored: a ValidationSet is given.");
                }

                var validation = ReadValidationSet(validationSet, data, train.Format, classCount, budget - train.CachedBytes);
                DescribeCache(validation, budget - train.CachedBytes);
                return new TrainingSets(train, validation);
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

            var sets = new TrainingSets(train.Select(trainIndices), train.Select(validationIndices), train);
            Info(string.Create(CultureInfo.InvariantCulture,
                $"Held out {validationIndices.Length} of {train.Count} training samples for validation (ValidationSetFraction {_options.ValidationSetFraction}, stratified by class); {trainIndices.Length} train."));
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

        return standardize ? NetworkInput.Standardized(train.Format, train.Statistics!) : new NetworkInput(train.Format);
    }

    private LabeledSamples ReadValidationSet(IDataView validationSet, IDataView data, FeatureFormat format, int classCount, long budget)
    {
        int validationClasses = TrainingColumns.ClassCount(_columns.Label(validationSet.Schema, "validation set"));
        if (validationClasses != classCount)
        {
            throw new ArgumentOutOfRangeException(nameof(validationSet),
                $"The validation set's label column '{_columns.LabelColumnName}' has {validationClasses} classes and the training set's has {classCount}: key both with the same fitted MapValueToKey transformer.");
        }

        CheckSameKeyValues(validationSet, data);

        return LabeledSamples.Read(validationSet, _columns, format, "validation set", budget, _options.CacheChunkBytes, measureChannels: false, _cancellation);
    }

    private void DescribeCache(LabeledSamples samples, long budget)
    {
        long bytes = samples.Count * samples.Format.StoredSampleBytes;
        Info(samples is StreamedSamples
            ? $"{samples.Count} samples ({bytes >> 20} MiB decoded) exceed the cache budget ({budget >> 20} MiB, TrainingCacheBudgetBytes): they are read and decoded again on every pass."
            : $"{samples.Count} samples cached in memory ({bytes >> 20} MiB of a {budget >> 20} MiB budget).");
    }

    /// <summary>
    /// Throws when both label columns carry key values (as MapValueToKey writes them) and these differ: a validation
    /// set keyed by its own MapValueToKey has the same class count but may number the classes in another order.
    /// </summary>
    private void CheckSameKeyValues(IDataView validationSet, IDataView data)
    {
        var training = ClassLabels.FromLabelColumn(_columns.Label(data.Schema, "training set")).Values;
        var validation = ClassLabels.FromLabelColumn(_columns.Label(validationSet.Schema, "validation set")).Values;
        if (training is null || validation is null)
        {
            return;
        }

        int mismatch = Enumerable.Range(0, training.Count).FirstOrDefault(key => training[key] != validation[key], -1);
        if (mismatch >= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(validationSet),
                $"The validation set's label column '{_columns.LabelColumnName}' numbers its classes differently from the training set's: key {mismatch + 1} is '{validation[mismatch]}' there and '{training[mismatch]}' in the training set. Key both with the same fitted MapValueToKey transformer.");
        }
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
        Device device, int seed, int classCount, Stopwatch clock, FineTuningSchedule fineTuning)
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
            long[] order;
            using (var permutation = torch.randperm(count, generator: generator))
            {
                order = permutation.data<long>().ToArray();
            }

            foreach (var batch in train.Batches(order, usable, batchSize))
            {
                using (batch)
                {
                    _cancellation.ThrowIfCancellationRequested();
                    using var scope = torch.NewDisposeScope();
                    var images = input.Prepare(batch.Samples, device);
                    if (augment)
                    {
                        images = augmentation.Apply(images, generator);
                    }

                    learningRate = schedule.At(step);
                    fineTuning.SetLearningRate(optimizer, learningRate);
                    var (loss, hits) = Step(model, optimizer, images, batch.Labels.to(device), classCount, epoch, step);
                    lossSum += loss * batch.Count;
                    correct += hits;
                    step++;
                }
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
        int classCount, int epoch, long step)
    {
        var logits = model.call(images);
        CheckLogits(logits, classCount);
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

    /// <summary>
    /// Throws unless the network gives [batch, classCount] logits: cross-entropy accepts more logits than classes
    /// without complaint, and the surplus would silently take probability from the real classes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The network's output has another shape.</exception>
    private void CheckLogits(Tensor logits, int classCount)
    {
        if (logits.ndim != 2 || logits.shape[1] != classCount)
        {
            string outputs = logits.ndim == 2 ? $"{logits.shape[1]} values per sample" : $"shape [{string.Join(", ", logits.shape)}]";
            throw new InvalidOperationException(
                $"The network outputs {outputs}, but label column '{_columns.LabelColumnName}' has {classCount} classes: the network must output [batch, {classCount}] logits (the class count its factory is given).");
        }
    }

    /// <summary>Mean loss and accuracy over every sample of <paramref name="data"/> (sums over batches, then one division).</summary>
    private static (double? Loss, double? Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, NetworkInput input, LabeledSamples data, Device device)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        double lossSum = 0;
        long correct = 0;
        long[] inOrder = [.. Enumerable.Range(0, checked((int)data.Count)).Select(row => (long)row)];
        foreach (var batch in data.Batches(inOrder, data.Count, ValidationBatchSize))
        {
            using (batch)
            {
                using var scope = torch.NewDisposeScope();
                var logits = model.call(input.Prepare(batch.Samples, device));
                var labels = batch.Labels.to(device);
                lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
                correct += logits.argmax(1).eq(labels).sum().item<long>();
            }
        }

        model.train();
        return (lossSum / data.Count, (double)correct / data.Count);
    }

    private void Info(string message) => _channel.Info(MessageSensitivity.None, message);
}
