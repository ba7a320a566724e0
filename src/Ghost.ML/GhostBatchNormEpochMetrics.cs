using System.Globalization;

namespace Ghost.ML;

/// <summary>What one training epoch achieved; passed to <see cref="GhostBatchNormTrainingOptions.MetricsCallback"/>.</summary>
public sealed class GhostBatchNormEpochMetrics
{
    internal GhostBatchNormEpochMetrics(int epoch, double trainLoss, double trainAccuracy, double? validationLoss,
        double? validationAccuracy, double learningRate, double imagesPerSecond, TimeSpan elapsed)
    {
        Epoch = epoch;
        TrainLoss = trainLoss;
        TrainAccuracy = trainAccuracy;
        ValidationLoss = validationLoss;
        ValidationAccuracy = validationAccuracy;
        LearningRate = learningRate;
        ImagesPerSecond = imagesPerSecond;
        Elapsed = elapsed;
    }

    /// <summary>The epoch, counted from 1.</summary>
    public int Epoch { get; }

    /// <summary>Mean cross-entropy over the epoch's training batches (with augmentation, in training mode).</summary>
    public double TrainLoss { get; }

    /// <summary>Fraction of training samples classified correctly during the epoch.</summary>
    public double TrainAccuracy { get; }

    /// <summary>Mean cross-entropy on the validation set after the epoch, or null without a validation set.</summary>
    public double? ValidationLoss { get; }

    /// <summary>Fraction of the validation set classified correctly after the epoch, or null without a validation set.</summary>
    public double? ValidationAccuracy { get; }

    /// <summary>The learning rate of the epoch's last step.</summary>
    public double LearningRate { get; }

    /// <summary>Training samples per second over the epoch (training steps only).</summary>
    public double ImagesPerSecond { get; }

    /// <summary>Time since training started.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>One line, e.g. <c>epoch 3: train loss 0.412, accuracy 86.10% | validation loss 0.380, accuracy 87.25% | lr 0.0950 | 151 images/s | 00:01:12</c>.</summary>
    public override string ToString()
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"epoch {Epoch}: train loss {TrainLoss:F3}, accuracy {TrainAccuracy:P2}");
        if (ValidationLoss is { } loss && ValidationAccuracy is { } accuracy)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" | validation loss {loss:F3}, accuracy {accuracy:P2}");
        }

        return text + string.Create(CultureInfo.InvariantCulture,
            $" | lr {LearningRate:G4} | {ImagesPerSecond:F0} images/s | {Elapsed:hh\\:mm\\:ss}");
    }
}
