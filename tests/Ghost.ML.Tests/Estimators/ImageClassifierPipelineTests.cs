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

        CollectionAssert.AreEqual(new[] { 1, 2 }, epochs.Select(epoch => epoch.Epoch).ToArray());
        Assert.IsNull(epochs[0].ValidationAccuracy);
        TestPipelines.AssertPredictedLabelsFollowScores<string>(scored);
        var predicted = scored.GetColumn<string>("PredictedLabel").ToList();
        var labels = scored.GetColumn<uint>("Label").ToList();
        string[] classNames = ["top", "bottom"]; // MapValueToKey keys the labels in order of appearance
        double accuracy = (double)predicted.Zip(labels).Count(pair => pair.First == classNames[pair.Second - 1]) / predicted.Count;
        Assert.AreEqual(accuracy, metrics.MicroAccuracy, 1e-9, "ML.NET's evaluator reads the same predictions");
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
        Assert.AreEqual(8, log.Count(message => message.StartsWith("epoch ", StringComparison.Ordinal)), string.Join("\n", log));
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
}
