using Ghost.ML.Benchmarks.Measurement;
using Microsoft.ML;

namespace Ghost.ML.Benchmarks.Estimators;

/// <summary>One epoch through the image classifier against the bare TorchSharp loop, interleaved in one process.</summary>
/// <param name="EstimatorImagesPerSecond">Median images/s of the estimator's epoch (training steps only, as its metrics report).</param>
/// <param name="BareImagesPerSecond">Median images/s of the bare loop's epoch.</param>
/// <param name="FitOverhead">Median time Fit spent outside the epoch: reading and decoding the images once, statistics, network set-up.</param>
internal sealed record EstimatorResult(double EstimatorImagesPerSecond, double BareImagesPerSecond, TimeSpan FitOverhead)
{
    /// <summary>Estimator epoch time over bare epoch time (goal 3: at most 1.1).</summary>
    public double EpochTimeRatio => BareImagesPerSecond / EstimatorImagesPerSecond;
}

/// <summary>Images/s of the estimator with the native allocator tuned or not, each measured in fresh processes.</summary>
/// <param name="TunedImagesPerSecond">Median with <c>TuneNativeAllocator = true</c> (the default).</param>
/// <param name="DefaultImagesPerSecond">Median with glibc's defaults.</param>
internal sealed record AllocatorThroughput(double TunedImagesPerSecond, double DefaultImagesPerSecond)
{
    /// <summary>How much faster the tuned allocator trains.</summary>
    public double Speedup => TunedImagesPerSecond / DefaultImagesPerSecond;
}

/// <summary>Goal 3: the estimator's training throughput.</summary>
internal static class EstimatorThroughput
{
    /// <summary>The command the child processes run.</summary>
    public const string ChildCommand = "estimator-child";

    private const int WarmupRounds = 1;

    /// <summary>
    /// Alternates a one-epoch Fit (default options, so the tuned allocator applies to the whole process from the
    /// warm-up on) with one bare epoch over the same images.
    /// </summary>
    public static EstimatorResult Compare(EstimatorOptions options)
    {
        var images = options.LoadImages();
        var mlContext = new MLContext(seed: 1);
        var data = EncodedImages.ToDataView(mlContext, images);
        using var bare = new BareTrainingLoop(images, options.BatchSize, options.GhostBatchSize);
        var epochs = new List<GhostBatchNormEpochMetrics>();
        var times = InterleavedTimer.Medians(
            [
                () => options.Fit(mlContext, data, epochs: 1, tuneNativeAllocator: true, epochs.Add).Dispose(),
                bare.RunEpoch,
            ],
            options.Rounds,
            WarmupRounds);
        var timed = epochs.Skip(WarmupRounds).ToList();
        var overhead = InterleavedTimer.Median(timed.Select(m => m.Elapsed - TimeSpan.FromSeconds(bare.Count / m.ImagesPerSecond)));
        return new EstimatorResult(InterleavedTimer.Median(timed.Select(m => m.ImagesPerSecond)), bare.Count / times[1].TotalSeconds, overhead);
    }

    /// <summary>Trains in child processes, alternating the tuned and the default allocator, <paramref name="repeats"/> times each.</summary>
    public static AllocatorThroughput CompareAllocator(EstimatorOptions options, int repeats)
    {
        var tuned = new List<double>();
        var plain = new List<double>();
        for (var repeat = 0; repeat < repeats; repeat++)
        {
            foreach (var tune in repeat % 2 == 0 ? new[] { true, false } : [false, true])
            {
                var imagesPerSecond = ChildProcess.Run(new[] { ChildCommand, tune.ToString() }.Concat(options.ToArguments()), new Dictionary<string, string>())[0];
                (tune ? tuned : plain).Add(imagesPerSecond);
            }
        }

        return new AllocatorThroughput(InterleavedTimer.Median(tuned), InterleavedTimer.Median(plain));
    }

    /// <summary>The child side: trains two epochs and replies with the second one's images/s (the first warms up).</summary>
    public static void RunAsChild(EstimatorOptions options, bool tuneNativeAllocator)
    {
        var mlContext = new MLContext(seed: 1);
        var data = EncodedImages.ToDataView(mlContext, options.LoadImages());
        var epochs = new List<GhostBatchNormEpochMetrics>();
        options.Fit(mlContext, data, epochs: 2, tuneNativeAllocator, epochs.Add).Dispose();
        ChildProcess.Reply(epochs[^1].ImagesPerSecond);
    }
}
