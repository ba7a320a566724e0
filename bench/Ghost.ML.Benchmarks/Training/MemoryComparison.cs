using Ghost.ML.Benchmarks.Allocator;
using Ghost.ML.Benchmarks.Measurement;

namespace Ghost.ML.Benchmarks.Training;

/// <summary>Peak memory of training with one allocator setting: each variant alone in its own process.</summary>
/// <param name="Setting">The allocator setting.</param>
/// <param name="PlainBytes">Peak resident set above the resident set before the first step, BatchNorm.</param>
/// <param name="GhostBytes">The same with ghost layers.</param>
internal sealed record MemoryResult(AllocatorSetting Setting, long PlainBytes, long GhostBytes)
{
    /// <summary>Ghost over BatchNorm (goal 5: at most 1.1).</summary>
    public double Ratio => (double)GhostBytes / PlainBytes;
}

/// <summary>
/// Goal 5 measured per process: a process that only trains (BatchNorm or ghost layers) runs a few steps, and its
/// peak resident set above the set before the first step is the training memory. Done for glibc's default allocator
/// and for the heap-only setting, where buffers the ghost layers hold are no longer free of resident cost.
/// </summary>
internal static class MemoryComparison
{
    /// <summary>The command the child processes run.</summary>
    public const string ChildCommand = "memory-child";

    /// <summary>The settings compared.</summary>
    public static IReadOnlyList<AllocatorSetting> Settings { get; } = [AllocatorSetting.Named("default"), AllocatorSetting.Named("mallopt-no-mmap")];

    /// <summary>Runs both variants under each setting, alternating, <paramref name="repeats"/> times; keeps the medians.</summary>
    public static IReadOnlyList<MemoryResult> Measure(StepOptions options, int repeats) => Settings
        .Select(setting =>
        {
            var runs = Enumerable.Range(0, repeats)
                .Select(_ => (Plain: RunChild(setting, ghost: false, options), Ghost: RunChild(setting, ghost: true, options)))
                .ToList();
            return new MemoryResult(setting, InterleavedTimer.Median(runs.Select(r => r.Plain)), InterleavedTimer.Median(runs.Select(r => r.Ghost)));
        })
        .ToList();

    /// <summary>The child side: trains one variant for the warm-up and timed rounds, replies with its peak growth.</summary>
    public static void RunAsChild(AllocatorSetting setting, bool ghost, StepOptions options)
    {
        setting.ApplyMallopt();
        using var step = new TrainingStep(options.Architecture, options.BatchSize, options.ImageSize, ghost ? options.GhostBatchSize : null);
        ChildProcess.Reply(ResidentMemory.PeakGrowth(() =>
        {
            for (var round = 0; round < options.Rounds + 2; round++)
            {
                step.Run();
            }
        }));
    }

    private static long RunChild(AllocatorSetting setting, bool ghost, StepOptions options) =>
        (long)ChildProcess.Run(new[] { ChildCommand, setting.Name, ghost ? "ghost" : "plain" }.Concat(options.ToArguments()), setting.Environment)[0];
}
