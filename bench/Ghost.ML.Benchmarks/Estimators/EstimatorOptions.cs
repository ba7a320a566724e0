using Ghost.ML.Benchmarks.Data;
using Ghost.ML.Benchmarks.Reporting;
using Microsoft.ML;

namespace Ghost.ML.Benchmarks.Estimators;

/// <summary>What the estimator and scoring commands train on and how often they measure.</summary>
/// <param name="DataDirectory">Fashion-MNIST IDX folder; random images when it is absent.</param>
/// <param name="Images">Training images (the first ones of the set).</param>
/// <param name="BatchSize">Images per training step.</param>
/// <param name="GhostBatchSize">Ghost batch size; 0 for plain BatchNorm.</param>
/// <param name="Rounds">Timed interleaved rounds.</param>
internal sealed record EstimatorOptions(string DataDirectory, int Images, int BatchSize, int GhostBatchSize, int Rounds)
{
    /// <summary>The same options as command-line arguments of the estimator commands.</summary>
    public IEnumerable<string> ToArguments() =>
    [
        "--data", DataDirectory, "--images", Images.ToString(), "--batch-size", BatchSize.ToString(),
        "--ghost-batch-size", GhostBatchSize.ToString(), "--rounds", Rounds.ToString(),
    ];

    /// <summary>The images, from Fashion-MNIST when found; says which on the console.</summary>
    public GreyImages LoadImages()
    {
        var images = GreyImages.FashionMnistOrRandom(DataDirectory, Images);
        Report.Images(images);
        return images;
    }

    /// <summary>
    /// Trains ResNet-20 on 28×28 grey images without augmentation (the bare loop has none) for
    /// <paramref name="epochs"/> epochs.
    /// </summary>
    public GhostBatchNormClassificationTransformer Fit(MLContext mlContext, IDataView data, int epochs, bool tuneNativeAllocator,
        Action<GhostBatchNormEpochMetrics>? onEpoch = null) =>
        new GhostBatchNormImageClassifier(mlContext, new GhostBatchNormImageClassifier.Options
        {
            ImageWidth = 28,
            ImageHeight = 28,
            RandomCropPadding = 0,
            HorizontalFlip = false,
            BatchSize = BatchSize,
            GhostBatchSize = GhostBatchSize,
            Epoch = epochs,
            Seed = 1,
            TuneNativeAllocator = tuneNativeAllocator,
            MetricsCallback = onEpoch,
        }).Fit(data);
}
