using Ghost.ML.Benchmarks.Measurement;
using Ghost.ML.Classification;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Ghost.ML.Benchmarks.Estimators;

/// <summary>Images/s of three ways to score with one trained model (medians of interleaved rounds).</summary>
/// <param name="BatchedImagesPerSecond"><c>Transform</c> with 256 rows per forward pass, Score read through a cursor.</param>
/// <param name="RowByRowImagesPerSecond"><c>Transform</c> with one row per forward pass.</param>
/// <param name="BareImagesPerSecond">The network alone on batches of 256 already decoded and standardised images, in inference mode.</param>
/// <param name="BareSingleImagesPerSecond">The network alone on one decoded image per pass: what row-by-row scoring cannot beat.</param>
internal sealed record ScoringResult(double BatchedImagesPerSecond, double RowByRowImagesPerSecond, double BareImagesPerSecond,
    double BareSingleImagesPerSecond)
{
    /// <summary>Batched over row by row (goal 4: at least 5).</summary>
    public double BatchedOverRowByRow => BatchedImagesPerSecond / RowByRowImagesPerSecond;

    /// <summary>Batched over the bare forward pass (goal 4: at least 0.9).</summary>
    public double BatchedOverBare => BatchedImagesPerSecond / BareImagesPerSecond;
}

/// <summary>Goal 4: batched scoring through the transformer.</summary>
internal static class ScoringThroughput
{
    private const int BatchSize = 256;

    /// <summary>
    /// Trains one epoch on the images, then scores them: batched, row by row (the first
    /// <paramref name="rowByRowImages"/> only, as it is slow), and with the bare network.
    /// </summary>
    public static ScoringResult Measure(EstimatorOptions options, int rowByRowImages)
    {
        var images = options.LoadImages();
        var mlContext = new MLContext(seed: 1);
        var data = EncodedImages.ToDataView(mlContext, images);
        using var transformer = options.Fit(mlContext, data, epochs: 1, tuneNativeAllocator: true);
        transformer.ScoringBatchSize = BatchSize;
        var batched = transformer.Transform(data);
        transformer.ScoringBatchSize = 1;
        var rowCount = Math.Min(rowByRowImages, images.Count);
        var rowByRow = transformer.Transform(mlContext.Data.TakeRows(data, rowCount));

        var network = transformer.Classifier;
        using var pixels = tensor(images.Pixels, [images.Count, 1, images.Height, images.Width]);
        var batches = Decode(network, pixels, BatchSize);
        var singles = Decode(network, pixels.narrow(0, 0, rowCount), 1);
        var times = InterleavedTimer.Medians(
            [
                () => ReadScores(batched),
                () => ReadScores(rowByRow),
                () => Forward(network, batches),
                () => Forward(network, singles),
            ],
            options.Rounds);
        batches.Concat(singles).ToList().ForEach(batch => batch.Dispose());
        return new ScoringResult(images.Count / times[0].TotalSeconds, rowCount / times[1].TotalSeconds,
            images.Count / times[2].TotalSeconds, rowCount / times[3].TotalSeconds);
    }

    /// <summary>The images as network input (decoded, standardised), in batches of <paramref name="batchSize"/>.</summary>
    internal static List<Tensor> Decode(TrainedClassifier network, Tensor pixels, int batchSize)
    {
        var count = (int)pixels.shape[0];
        return Enumerable.Range(0, (count + batchSize - 1) / batchSize)
            .Select(batch => network.Input.Prepare(pixels.narrow(0, batch * batchSize, Math.Min(batchSize, count - (batch * batchSize))), network.Device))
            .ToList();
    }

    private static void ReadScores(IDataView scored)
    {
        var score = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([score]);
        var getter = cursor.GetGetter<VBuffer<float>>(score);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
        }
    }

    /// <summary>The network and the softmax on each batch, in inference mode.</summary>
    internal static void Forward(TrainedClassifier network, IEnumerable<Tensor> batches)
    {
        using var inference = inference_mode();
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            network.Network.call(batch).softmax(1);
        }
    }
}
