using Ghost.ML.Tests.Estimators;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Tests.Persistence;

/// <summary>mlContext.Model.Save / Model.Load of whole chains that contain the classifier.</summary>
[TestClass]
public sealed class MLNetModelFileTests : SingleThreadedTorchTests
{
    private static TestImageFolder s_images = null!;
    private static IDataView s_rows = null!;
    private static TransformerChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> s_model = null!;
    private static float[][] s_scores = null!;

    [ClassInitialize]
    public static void TrainOnce(TestContext context)
    {
        s_images = new TestImageFolder(imagesPerClass: 6);
        var mlContext = new MLContext(seed: 1);
        s_rows = mlContext.Data.LoadFromEnumerable(s_images.Rows);
        s_model = TestPipelines.Canonical(mlContext, s_images.Path, TestPipelines.FastOptions(epochs: 1)).Fit(s_rows);
        s_scores = TestPipelines.Scores(s_model.Transform(s_rows));
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        s_model.Dispose();
        s_images.Dispose();
    }

    [TestMethod]
    public void ChainRoundTripsThroughAFileWithIdenticalScores()
    {
        string path = Path.Combine(s_images.Path, "chain.zip");
        new MLContext().Model.Save(s_model, s_rows.Schema, path);

        var mlContext = new MLContext();
        var loaded = mlContext.Model.Load(path, out var inputSchema);

        Assert.AreEqual(s_rows.Schema.Count, inputSchema.Count);
        TestPipelines.AssertSameScores(s_scores, TestPipelines.Scores(loaded.Transform(s_rows)), "loaded from a file", tolerance: 0);
        ((IDisposable)loaded).Dispose();
    }

    [TestMethod]
    public void ChainRoundTripsThroughAStreamAndScoresLikeTheOriginal()
    {
        using var stream = new MemoryStream();
        new MLContext().Model.Save(s_model, s_rows.Schema, stream);
        stream.Position = 0;

        var mlContext = new MLContext();
        var loaded = mlContext.Model.Load(stream, out _);
        var scored = loaded.Transform(s_rows);

        TestPipelines.AssertSameScores(s_scores, TestPipelines.Scores(scored), "loaded from a stream", tolerance: 0);
        var metrics = mlContext.MulticlassClassification.Evaluate(scored);
        var original = mlContext.MulticlassClassification.Evaluate(s_model.Transform(s_rows));
        Assert.AreEqual(original.MicroAccuracy, metrics.MicroAccuracy);
        Assert.AreEqual(original.LogLoss, metrics.LogLoss);
    }
}
