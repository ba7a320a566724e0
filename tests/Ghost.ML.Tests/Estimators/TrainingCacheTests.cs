using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Tests.Estimators;

/// <summary>
/// The training cache's budget and chunks: a budget too small for the data streams it every epoch, and gives the
/// same model as the cache, which gives the same model whatever its chunk size.
/// </summary>
[TestClass]
public sealed class TrainingCacheTests : SingleThreadedTorchTests
{
    private const string Streamed = "read and decoded again on every pass";

    [TestMethod]
    public void TinyBudgetStreamsAndTrainsTheSameModelAsTheCache()
    {
        var (cached, cachedLog) = FitVectors(options => { });
        var (chunked, _) = FitVectors(options => options.CacheChunkBytes = 5 * PixelRow.Size * sizeof(float));
        var (streamed, streamedLog) = FitVectors(options => options.TrainingCacheBudgetBytes = 1000);
        var (streamedAgain, _) = FitVectors(options => options.TrainingCacheBudgetBytes = 1000);

        Assert.IsFalse(cachedLog.Any(message => message.Contains(Streamed)), "the default budget caches 48 rows");
        Assert.IsTrue(streamedLog.Any(message => message.Contains(Streamed)), "1000 bytes cannot hold 48 rows of 256 bytes");
        TestPipelines.AssertSameScores(cached, chunked, "cache of 5-row chunks", tolerance: 0);
        TestPipelines.AssertSameScores(cached, streamed, "streamed", tolerance: 0);
        TestPipelines.AssertSameScores(streamed, streamedAgain, "streamed again with the seed", tolerance: 0);
    }

    [TestMethod]
    public void StreamedImagesWithAValidationSetTrainLikeCachedOnes()
    {
        using var images = new TestImageFolder(imagesPerClass: 10);
        var cached = FitImages(images, budget: null);
        var streamed = FitImages(images, budget: 0);
        TestPipelines.AssertSameScores(cached, streamed, "streamed images", tolerance: 0);
    }

    [TestMethod]
    public void StreamedSourceThatChangesOrderBetweenPassesIsRefused()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = TestVectors.Rows(rowsPerClass: 12);
        var source = new ReorderingRows(rows);
        var keys = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(mlContext.Data.LoadFromEnumerable(rows));
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.TrainingCacheBudgetBytes = 0;
        var error = Assert.ThrowsExactly<InvalidDataException>(() =>
            new GhostBatchNormTrainer(mlContext, GhostBatchNormTrainerTests.SmallModel, options).Fit(keys.Transform(mlContext.Data.LoadFromEnumerable(source))));
        StringAssert.Contains(error.Message, "same rows in the same order on every pass");
    }

    private static (float[][] Scores, List<string> Log) FitVectors(Action<GhostBatchNormTrainer.Options> configure)
    {
        var mlContext = new MLContext(seed: 1);
        var log = new List<string>();
        mlContext.Log += (_, e) => log.Add(e.RawMessage);
        var data = GhostBatchNormTrainerTests.KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 24));
        var options = GhostBatchNormTrainerTests.FastOptions();
        configure(options);
        using var model = new GhostBatchNormTrainer(mlContext, GhostBatchNormTrainerTests.SmallModel, options).Fit(data);
        return (TestPipelines.Scores(model.Transform(data)), log);
    }

    private static float[][] FitImages(TestImageFolder images, long? budget)
    {
        var mlContext = new MLContext(seed: 1);
        var rows = mlContext.Data.LoadFromEnumerable(images.Rows);
        var data = mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.Transforms.LoadRawImageBytes("Features", images.Path, nameof(ImageRow.ImagePath)))
            .Fit(rows).Transform(rows);
        var options = TestPipelines.FastOptions(epochs: 1);
        options.RandomCropPadding = 1;
        options.TrainingCacheBudgetBytes = budget;
        options.ValidationSet = data;
        using var model = new GhostBatchNormImageClassifier(mlContext, options).Fit(data);
        return TestPipelines.Scores(model.Transform(data));
    }

    /// <summary>Rows that come in another order on every enumeration (rotated by one row each time).</summary>
    private sealed class ReorderingRows(List<PixelRow> rows) : IEnumerable<PixelRow>
    {
        private int _passes;

        public IEnumerator<PixelRow> GetEnumerator()
        {
            int shift = _passes++;
            return Enumerable.Range(0, rows.Count).Select(i => rows[(i + shift) % rows.Count]).GetEnumerator();
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
