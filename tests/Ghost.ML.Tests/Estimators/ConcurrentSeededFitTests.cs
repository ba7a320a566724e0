using Microsoft.ML;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Tests.Estimators;

/// <summary>Seeded Fits running at the same time give the model a lone Fit with that seed gives.</summary>
[TestClass]
public sealed class ConcurrentSeededFitTests : SingleThreadedTorchTests
{
    [TestMethod]
    public void TwoConcurrentSeededFitsMatchALoneFit()
    {
        var mlContext = new MLContext(seed: 1);
        var data = GhostBatchNormTrainerTests.KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 8));
        var lone = Scores(mlContext, data, new CountdownEvent(1));

        // Each factory draws its first layer, then waits (at most two seconds) until the other has drawn its
        // first layer too: without a lock both would reseed the generator and then share it for the second layer.
        var bothDrawn = new CountdownEvent(2);
        var fits = new[] { Task.Run(() => Scores(mlContext, data, bothDrawn)), Task.Run(() => Scores(mlContext, data, bothDrawn)) };
        Task.WaitAll(fits);

        TestPipelines.AssertSameScores(lone, fits[0].Result, "first concurrent Fit", tolerance: 0);
        TestPipelines.AssertSameScores(lone, fits[1].Result, "second concurrent Fit", tolerance: 0);
    }

    private static float[][] Scores(MLContext mlContext, IDataView data, CountdownEvent firstLayersDrawn)
    {
        var trainer = new GhostBatchNormTrainer(mlContext, classes =>
        {
            var first = nn.Linear(PixelRow.Size, 16);
            firstLayersDrawn.Signal();
            firstLayersDrawn.Wait(TimeSpan.FromSeconds(2));
            return nn.Sequential(first, nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, classes));
        }, GhostBatchNormTrainerTests.FastOptions());
        using var model = trainer.Fit(data);
        return TestPipelines.Scores(model.Transform(data));
    }
}
