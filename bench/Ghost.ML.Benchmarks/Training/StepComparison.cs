using Ghost.ML.Benchmarks.Measurement;

namespace Ghost.ML.Benchmarks.Training;

/// <summary>Median step time and peak resident-memory growth of plain BatchNorm and ghost layers, side by side.</summary>
/// <param name="PlainStep">Median step with BatchNorm.</param>
/// <param name="GhostStep">Median step with ghost layers.</param>
/// <param name="PlainPeakBytes">Median peak resident-set growth during a BatchNorm step.</param>
/// <param name="GhostPeakBytes">Median peak resident-set growth during a ghost step.</param>
internal sealed record StepResult(TimeSpan PlainStep, TimeSpan GhostStep, long PlainPeakBytes, long GhostPeakBytes)
{
    /// <summary>Ghost step time over BatchNorm step time (goal 2: at most 1.02).</summary>
    public double TimeRatio => GhostStep / PlainStep;

    /// <summary>Ghost peak memory growth over BatchNorm's, within one shared process (see <see cref="MemoryComparison"/> for goal 5).</summary>
    public double MemoryRatio => (double)GhostPeakBytes / PlainPeakBytes;
}

/// <summary>Runs the two training steps interleaved in this process.</summary>
internal static class StepComparison
{
    /// <summary>Measures <see cref="StepOptions.Rounds"/> interleaved rounds after two warm-up rounds.</summary>
    public static StepResult Measure(StepOptions options)
    {
        using var plain = new TrainingStep(options.Architecture, options.BatchSize, options.ImageSize, ghostBatchSize: null);
        using var ghost = new TrainingStep(options.Architecture, options.BatchSize, options.ImageSize, options.GhostBatchSize);
        var plainPeaks = new List<long>();
        var ghostPeaks = new List<long>();
        var times = InterleavedTimer.Medians(
            [
                () => plainPeaks.Add(ResidentMemory.PeakGrowth(plain.Run)),
                () => ghostPeaks.Add(ResidentMemory.PeakGrowth(ghost.Run)),
            ],
            options.Rounds);
        return new StepResult(times[0], times[1], InterleavedTimer.Median(plainPeaks), InterleavedTimer.Median(ghostPeaks));
    }
}
