namespace Ghost.ML.Training;

/// <summary>The epochs one Fit has seen, judged by a <see cref="GhostBatchNormEarlyStopping"/> criterion.</summary>
internal sealed class EarlyStoppingTracker
{
    private readonly GhostBatchNormEarlyStopping _criterion;
    private double _best = double.NegativeInfinity;
    private int _epochsWithoutImprovement;

    /// <summary>Starts tracking with <paramref name="criterion"/>.</summary>
    public EarlyStoppingTracker(GhostBatchNormEarlyStopping criterion)
    {
        _criterion = criterion;
    }

    /// <summary>Whether the last epoch recorded improved on every earlier one: the best so far.</summary>
    public bool LastWasBest { get; private set; }

    /// <summary>Records an epoch and tells whether training should stop after it.</summary>
    public bool ShouldStop(GhostBatchNormEpochMetrics metrics)
    {
        double value = _criterion.ValueOf(metrics);
        LastWasBest = value > _best + _criterion.MinDelta;
        if (LastWasBest)
        {
            _best = value;
            _epochsWithoutImprovement = 0;
            return false;
        }

        return ++_epochsWithoutImprovement >= _criterion.Patience;
    }
}
