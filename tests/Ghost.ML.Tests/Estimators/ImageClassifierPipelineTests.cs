using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Tests.Estimators;

[TestClass]
public sealed class ImageClassifierPipelineTests : SingleThreadedTorchTests
{
    [TestMethod]
    public void CanonicalPipelineFitsAndEvaluates()
    {
        using var images = new TestImageFolder(imagesPerClass: 12);
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(images.Rows);
        var epochs = new List<GhostBatchNormEpochMetrics>();
        var options = TestPipelines.FastOptions();
        options.MetricsCallback = epochs.Add;

        using var model = TestPipelines.Canonical(mlContext, images.Path, options).Fit(data);
        var scored = model.Transform(data);
        var metrics = mlContext.MulticlassClassification.Evaluate(scored);

        Assert.HasCount(2, epochs);
        Assert.AreEqual(1, epochs[0].Epoch);
        Assert.IsNull(epochs[0].ValidationAccuracy);
        Assert.IsTrue(metrics.MicroAccuracy is >= 0 and <= 1);
        var predicted = mlContext.Data.CreateEnumerable<Prediction>(scored, reuseRowObject: false).ToList();
        Assert.HasCount(images.Rows.Count, predicted);
        Assert.IsTrue(predicted.All(row => row.PredictedLabel is "top" or "bottom"));
        Assert.IsTrue(predicted.All(row => Math.Abs(row.Score.Sum() - 1) < 1e-4));
    }

    [TestMethod]
    public void LearnsASimpleSignalWithValidationSetAndLogs()
    {
        using var images = new TestImageFolder(imagesPerClass: 16);
        var mlContext = new MLContext(seed: 1);
        var log = new List<string>();
        mlContext.Log += (_, e) =>
        {
            if (e.Source.StartsWith(nameof(GhostBatchNormImageClassifier), StringComparison.Ordinal))
            {
                log.Add(e.RawMessage);
            }
        };
        var preprocessing = mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.Transforms.LoadRawImageBytes("Image", images.Path, nameof(ImageRow.ImagePath)));
        var data = preprocessing.Fit(mlContext.Data.LoadFromEnumerable(images.Rows)).Transform(mlContext.Data.LoadFromEnumerable(images.Rows));
        var epochs = new List<GhostBatchNormEpochMetrics>();
        var options = TestPipelines.FastOptions(epochs: 8);
        options.BatchSize = 8;
        options.FeatureColumnName = "Image";
        options.RandomCropPadding = 1; // 4 pixels would shift an 8-pixel image by half its height
        options.LearningRate = 0.1f;
        options.ValidationSet = data;
        options.MetricsCallback = epochs.Add;

        using var classifier = mlContext.MulticlassClassification.Trainers.GhostBatchNormImageClassification(options).Fit(data);
        var metrics = mlContext.MulticlassClassification.Evaluate(classifier.Transform(data));

        Assert.IsGreaterThanOrEqualTo(0.85, metrics.MicroAccuracy, $"accuracy {metrics.MicroAccuracy}");
        Assert.AreEqual(metrics.MicroAccuracy, epochs[^1].ValidationAccuracy!.Value, 1e-9, "validation accuracy counts every row");
        Assert.IsTrue(log.Count(message => message.StartsWith("epoch ", StringComparison.Ordinal)) == 8, string.Join("\n", log));
    }

    [TestMethod]
    public void SameSeedGivesIdenticalScores()
    {
        using var images = new TestImageFolder(imagesPerClass: 6);
        var scores = new List<float[][]>();
        for (int run = 0; run < 2; run++)
        {
            var mlContext = new MLContext();
            var data = mlContext.Data.LoadFromEnumerable(images.Rows);
            using var model = TestPipelines.Canonical(mlContext, images.Path, TestPipelines.FastOptions(epochs: 1)).Fit(data);
            scores.Add(TestPipelines.Scores(model.Transform(data)));
        }

        TestPipelines.AssertSameScores(scores[0], scores[1], "same Seed", tolerance: 0);
    }

    public sealed class Prediction
    {
        public string PredictedLabel { get; set; } = string.Empty;

        public float[] Score { get; set; } = [];
    }
}
