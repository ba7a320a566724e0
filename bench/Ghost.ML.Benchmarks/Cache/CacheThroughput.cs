using System.Diagnostics;
using System.Globalization;
using Ghost.ML.Benchmarks.Measurement;
using Ghost.ML.Features;
using Ghost.ML.Hosting;
using Ghost.ML.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using TorchSharp;

namespace Ghost.ML.Benchmarks.Cache;

/// <summary>How a training set is held between epochs in one measured case.</summary>
/// <param name="Name">What the report calls it.</param>
/// <param name="BudgetFraction">Cache budget as a fraction of the set's decoded bytes; null for the default budget.</param>
internal sealed record CacheCase(string Name, double? BudgetFraction);

/// <summary>One case measured in its own process.</summary>
/// <param name="Images">Images in the training set.</param>
/// <param name="Case">The cache setting.</param>
/// <param name="BudgetBytes">The budget the case ran with.</param>
/// <param name="FirstPassSeconds">Reading, decoding and measuring the set once (what Fit does before training).</param>
/// <param name="EpochImagesPerSecond">Images/s of one shuffled epoch of batches, without a network.</param>
/// <param name="PeakGrowthBytes">Peak resident memory above the process's size before the first pass.</param>
/// <param name="Streamed">Whether the set was streamed.</param>
internal sealed record CacheResult(int Images, CacheCase Case, long BudgetBytes, double FirstPassSeconds, double EpochImagesPerSecond,
    long PeakGrowthBytes, bool Streamed);

/// <summary>
/// The training data path on its own: the first pass of Fit over PNG images and one shuffled epoch of batches, with
/// the cache and streamed, each case alone in a child process so that its peak memory is its own.
/// </summary>
internal static class CacheThroughput
{
    /// <summary>The command the child processes run.</summary>
    public const string ChildCommand = "cache-child";

    /// <summary>The cases measured at every size.</summary>
    public static readonly IReadOnlyList<CacheCase> Cases =
    [
        new("cached (default budget)", null),
        new("streamed, budget = 1/2 of the pixels", 0.5),
        new("streamed, budget 0 (one batch per round)", 0),
    ];

    /// <summary>
    /// The children's GC setting: a gen-0 budget of 32 MiB, so that peak memory shows what the data path holds rather
    /// than how much garbage the collector lets pile up before it runs (its default budget grows to hundreds of MiB).
    /// </summary>
    private static readonly Dictionary<string, string> GcEnvironment = new() { ["DOTNET_GCgen0size"] = "0x2000000" };

    /// <summary>Runs every case at every size, each in a child process.</summary>
    public static IReadOnlyList<CacheResult> Measure(IEnumerable<int> sizes, int imageSize, int batchSize) =>
        [.. sizes.SelectMany(images => Cases.Select((cacheCase, index) =>
        {
            var reply = ChildProcess.Run(
                [ChildCommand, images.ToString(CultureInfo.InvariantCulture), index.ToString(CultureInfo.InvariantCulture),
                    "--image-size", imageSize.ToString(CultureInfo.InvariantCulture), "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture)],
                GcEnvironment);
            return new CacheResult(images, cacheCase, (long)reply[0], reply[1], reply[2], (long)reply[3], reply[4] == 1);
        }))];

    /// <summary>The child side: measures one case and replies with budget, first-pass seconds, epoch images/s, peak growth and streamed.</summary>
    public static void RunAsChild(int images, CacheCase cacheCase, int imageSize, int batchSize)
    {
        var mlContext = new MLContext(seed: 1);
        var data = ColourImages.ToDataView(mlContext, images, imageSize);
        var format = new EncodedImageFormat(imageSize, imageSize, channels: null);
        var columns = new TrainingColumns("Label", "Features", format);
        var options = new GhostBatchNormImageClassifier.Options();
        long budget = cacheCase.BudgetFraction is { } fraction
            ? (long)(fraction * images * format.StoredSampleBytes)
            : options.CacheBudgetBytes();
        var cancellation = new FitCancellation(((IHostEnvironment)mlContext).Register("cache"), CancellationToken.None);

        // Warm-up on a small set through the same path: loads libtorch and Skia and compiles the code, which would
        // otherwise dominate the small cases' time and memory.
        Run(ColourImages.ToDataView(mlContext, 2 * batchSize, imageSize), budget);
        GC.Collect();
        (double FirstPass, double Epoch, bool Streamed) measured = default;
        long growth = ResidentMemory.PeakGrowth(() => measured = Run(data, budget));
        ChildProcess.Reply(budget, measured.FirstPass, images / measured.Epoch, growth, measured.Streamed ? 1 : 0);

        (double FirstPass, double Epoch, bool Streamed) Run(IDataView view, long budgetBytes)
        {
            var clock = Stopwatch.StartNew();
            using var samples = LabeledSamples.Read(view, columns, format, "training set", budgetBytes, options.CacheChunkBytes, measureChannels: true, cancellation);
            double firstPass = clock.Elapsed.TotalSeconds;
            using var generator = new torch.Generator(1);
            using var permutation = torch.randperm(samples.Count, generator: generator);
            var order = permutation.data<long>().ToArray();
            clock.Restart();
            foreach (var batch in samples.Batches(order, samples.Count, batchSize))
            {
                batch.Dispose();
            }

            return (firstPass, clock.Elapsed.TotalSeconds, samples is StreamedSamples);
        }
    }
}
