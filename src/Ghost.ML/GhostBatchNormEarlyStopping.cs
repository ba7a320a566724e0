namespace Ghost.ML;

/// <summary>
/// Stops training when a metric has not improved by at least <see cref="MinDelta"/> for <see cref="Patience"/>
/// epochs in a row. The metric is read from the validation set when there is one, else from the training epoch.
/// </summary>
/// <remarks>
/// The criterion is a setting and holds no state: each Fit tracks its own epochs, so one criterion (or one options
/// object) can serve several Fits, also at the same time.
/// </remarks>
public sealed class GhostBatchNormEarlyStopping
{
    /// <summary>Creates the criterion.</summary>
    /// <param name="minDelta">Smallest change that counts as an improvement; at least 0.</param>
    /// <param name="patience">Epochs without improvement before stopping; at least 1.</param>
    /// <param name="metric">What to watch: accuracy (higher is better) or loss (lower is better).</param>
    /// <param name="restoreBestWeights">
    /// Whether Fit returns the weights of the best epoch by <paramref name="metric"/> (the last one that improved by
    /// more than <paramref name="minDelta"/>) rather than the last epoch's.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public GhostBatchNormEarlyStopping(double minDelta = 0.001, int patience = 5, EarlyStoppingMetric metric = EarlyStoppingMetric.Accuracy,
        bool restoreBestWeights = true)
    {
        if (!double.IsFinite(minDelta) || minDelta < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "minDelta must be a finite number >= 0.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patience);
        if (!Enum.IsDefined(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric.");
        }

        MinDelta = minDelta;
        Patience = patience;
        Metric = metric;
        RestoreBestWeights = restoreBestWeights;
    }

    /// <summary>Smallest change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; }

    /// <summary>The watched metric.</summary>
    public EarlyStoppingMetric Metric { get; }

    /// <summary>
    /// Whether Fit returns the best epoch's weights (true, the default; kept as a copy in memory) or the last epoch's.
    /// The log names the epoch kept.
    /// </summary>
    public bool RestoreBestWeights { get; }

    /// <summary>The watched value of an epoch, oriented so that higher is better.</summary>
    internal double ValueOf(GhostBatchNormEpochMetrics metrics) => Metric == EarlyStoppingMetric.Accuracy
        ? metrics.ValidationAccuracy ?? metrics.TrainAccuracy
        : -(metrics.ValidationLoss ?? metrics.TrainLoss);
}

/// <summary>The metric <see cref="GhostBatchNormEarlyStopping"/> watches.</summary>
public enum EarlyStoppingMetric
{
    /// <summary>Classification accuracy; higher is better.</summary>
    Accuracy,

    /// <summary>Cross-entropy loss; lower is better.</summary>
    Loss,
}
