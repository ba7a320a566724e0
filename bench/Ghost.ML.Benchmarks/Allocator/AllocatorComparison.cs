using Ghost.ML.Benchmarks.Layers;
using Ghost.ML.Benchmarks.Measurement;
using Ghost.ML.Benchmarks.Training;

namespace Ghost.ML.Benchmarks.Allocator;

/// <summary>Training-step figures of one allocator setting, measured in a fresh process.</summary>
/// <param name="Setting">The allocator setting.</param>
/// <param name="Step">Interleaved plain/ghost step times and per-step peak memory growth.</param>
/// <param name="Layer">Interleaved layer passes at the first goal case, whose 64 MiB activations exceed glibc's
/// largest mmap threshold.</param>
/// <param name="ProcessPeakBytes">Peak resident set of the whole process.</param>
internal sealed record AllocatorResult(AllocatorSetting Setting, StepResult Step, LayerTimes Layer, long ProcessPeakBytes);

/// <summary>
/// Compares glibc malloc settings on the training step. Environment variables are read by glibc at start-up, so each
/// setting runs in a child process of this program (the <c>allocator-child</c> command), in rotated order, repeated.
/// </summary>
internal static class AllocatorComparison
{
    /// <summary>The command the child processes run.</summary>
    public const string ChildCommand = "allocator-child";

    /// <summary>Runs every setting <paramref name="repeats"/> times and keeps, per setting, the run with the median plain step.</summary>
    public static IReadOnlyList<AllocatorResult> Measure(StepOptions options, int repeats)
    {
        var runs = AllocatorSetting.All.ToDictionary(setting => setting.Name, _ => new List<AllocatorResult>());
        for (var repeat = 0; repeat < repeats; repeat++)
        {
            var count = AllocatorSetting.All.Count;
            for (var offset = 0; offset < count; offset++)
            {
                var setting = AllocatorSetting.All[(repeat + offset) % count];
                runs[setting.Name].Add(RunChild(setting, options));
            }
        }

        return AllocatorSetting.All
            .Select(setting => runs[setting.Name].OrderBy(run => run.Step.PlainStep).ElementAt(repeats / 2))
            .ToList();
    }

    /// <summary>The child side: applies the setting's mallopt calls, measures, replies to the parent.</summary>
    public static void RunAsChild(AllocatorSetting setting, StepOptions options)
    {
        setting.ApplyMallopt();
        var step = StepComparison.Measure(options);
        var layer = LayerComparison.Measure(LayerCase.Goals[0], options.Rounds * 3);
        ChildProcess.Reply(step.PlainStep.TotalMilliseconds, step.GhostStep.TotalMilliseconds, step.PlainPeakBytes, step.GhostPeakBytes,
            layer.BatchNorm.TotalMilliseconds, layer.Ghost.TotalMilliseconds, layer.ChunkLoop.TotalMilliseconds, ResidentMemory.Peak);
    }

    private static AllocatorResult RunChild(AllocatorSetting setting, StepOptions options)
    {
        var values = ChildProcess.Run(new[] { ChildCommand, setting.Name }.Concat(options.ToArguments()), setting.Environment);
        var step = new StepResult(TimeSpan.FromMilliseconds(values[0]), TimeSpan.FromMilliseconds(values[1]), (long)values[2], (long)values[3]);
        var layer = new LayerTimes(LayerCase.Goals[0], TimeSpan.FromMilliseconds(values[4]), TimeSpan.FromMilliseconds(values[5]),
            TimeSpan.FromMilliseconds(values[6]));
        return new AllocatorResult(setting, step, layer, (long)values[7]);
    }
}
