namespace Ghost.ML.Training;

/// <summary>
/// Learning rate per optimizer step: linear warm-up from 0 to the peak, then either constant or a cosine down to 0
/// at the last step.
/// </summary>
internal sealed class WarmupCosineSchedule
{
    private readonly double _peak;
    private readonly long _warmupSteps;
    private readonly long _totalSteps;
    private readonly bool _cosine;

    /// <summary>Creates the schedule.</summary>
    public WarmupCosineSchedule(double peak, long warmupSteps, long totalSteps, bool cosine)
    {
        _peak = peak;
        _warmupSteps = Math.Min(warmupSteps, totalSteps);
        _totalSteps = totalSteps;
        _cosine = cosine;
    }

    /// <summary>The learning rate of step <paramref name="step"/> (0-based).</summary>
    public double At(long step)
    {
        if (step < _warmupSteps)
        {
            return _peak * (step + 1) / _warmupSteps;
        }

        if (!_cosine || _totalSteps <= _warmupSteps)
        {
            return _peak;
        }

        double progress = (double)(step - _warmupSteps) / (_totalSteps - _warmupSteps);
        return _peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
