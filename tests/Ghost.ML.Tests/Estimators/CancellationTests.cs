using Microsoft.ML;

namespace Ghost.ML.Tests.Estimators;

[TestClass]
public sealed class CancellationTests : SingleThreadedTorchTests
{
    [TestMethod]
    public void CancelledBeforeFit()
    {
        var mlContext = new MLContext(seed: 1);
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.CancellationToken = new CancellationToken(canceled: true);
        var data = GhostBatchNormTrainerTests.KeyedPixels(mlContext, TestVectors.Rows(4));
        Assert.Throws<OperationCanceledException>(() => new GhostBatchNormTrainer(mlContext, GhostBatchNormTrainerTests.SmallModel, options).Fit(data));
    }

    [TestMethod]
    public void MLContextCancelExecutionStopsFitLikeTheToken()
    {
        var mlContext = new MLContext(seed: 1);
        var data = GhostBatchNormTrainerTests.KeyedPixels(mlContext, TestVectors.Rows(4));
        var epochs = new List<int>();
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.MetricsCallback = metrics =>
        {
            epochs.Add(metrics.Epoch);
            CancelExecution(mlContext);
        };

        var error = Assert.Throws<OperationCanceledException>(() => mlContext.MulticlassClassification.Trainers
            .GhostBatchNorm(GhostBatchNormTrainerTests.SmallModel, options).Fit(data));

        CollectionAssert.AreEqual(new[] { 1 }, epochs, "training stopped after the epoch that cancelled");
        StringAssert.Contains(error.Message, "CancelExecution");
    }

    [TestMethod]
    public void CancelledFromTheMetricsCallbackLeavesNoFiles()
    {
        using var images = new TestImageFolder(imagesPerClass: 4);
        var before = Directory.GetFiles(images.Path).Order().ToArray();
        var mlContext = new MLContext(seed: 1);
        using var cancellation = new CancellationTokenSource();
        var epochs = new List<int>();
        var options = TestPipelines.FastOptions(epochs: 3);
        options.CancellationToken = cancellation.Token;
        options.MetricsCallback = metrics =>
        {
            epochs.Add(metrics.Epoch);
            cancellation.Cancel();
        };

        var data = mlContext.Data.LoadFromEnumerable(images.Rows);
        Assert.Throws<OperationCanceledException>(() => TestPipelines.Canonical(mlContext, images.Path, options).Fit(data));

        CollectionAssert.AreEqual(new[] { 1 }, epochs, "training stopped after the epoch that cancelled");
        CollectionAssert.AreEqual(before, Directory.GetFiles(images.Path).Order().ToArray());
    }

    /// <summary>
    /// MLContext.CancelExecution(), which ML.NET 6 keeps internal (AutoML and hosts that reach it call it); the test
    /// calls it the way such a host does.
    /// </summary>
    private static void CancelExecution(MLContext mlContext) =>
        typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!
            .Invoke(mlContext, null);
}
