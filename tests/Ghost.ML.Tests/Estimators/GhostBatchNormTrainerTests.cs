using Ghost.ML.Torch;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Tests.Estimators;

[TestClass]
public sealed class GhostBatchNormTrainerTests : SingleThreadedTorchTests
{
    [TestMethod]
    public void TrainsAUserModelWithItsBatchNormTurnedIntoGhostLayers()
    {
        var mlContext = new MLContext(seed: 1);
        var data = KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 24));
        nn.Module<Tensor, Tensor>? built = null;
        var trainer = mlContext.MulticlassClassification.Trainers.GhostBatchNorm(classes => built = SmallModel(classes), FastOptions());

        using var model = trainer.Fit(data);
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(data));

        Assert.IsNotNull(built);
        Assert.AreEqual(1, built.modules().OfType<GhostBatchNorm1d>().Count(), "the BatchNorm1d became a ghost layer");
        Assert.AreEqual(0, built.modules().OfType<TorchSharp.Modules.BatchNorm1d>().Count());
        Assert.AreEqual(8, built.modules().OfType<GhostBatchNorm1d>().Single().GhostBatchSize);
        Assert.IsGreaterThanOrEqualTo(0.9, metrics.MicroAccuracy);
    }

    [TestMethod]
    public void TrainerFitsInAnEstimatorChainBeforeMapKeyToValue()
    {
        var mlContext = new MLContext(seed: 1);
        var data = KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 8));
        var pipeline = new GhostBatchNormTrainer(mlContext, SmallModel, FastOptions())
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

        using var model = pipeline.Fit(data);

        TestPipelines.AssertPredictedLabelsFollowScores<string>(model.Transform(data));
    }

    [TestMethod]
    public void ImageShapedVectorsAndSaveLoadWithTheFactory()
    {
        var mlContext = new MLContext(seed: 1);
        var data = KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 8));
        var options = FastOptions();
        options.FeatureShape = [1, 8, 8];
        options.RandomCropPadding = 1;
        options.HorizontalFlip = true;
        using var model = new GhostBatchNormTrainer(mlContext, ConvModel, options).Fit(data);
        var scores = TestPipelines.Scores(model.Transform(data));

        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        Assert.ThrowsExactly<InvalidOperationException>(() => GhostBatchNormClassificationTransformer.Load(mlContext, stream));
        stream.Position = 0;
        using var loaded = GhostBatchNormClassificationTransformer.Load(mlContext, stream, ConvModel);
        TestPipelines.AssertSameScores(scores, TestPipelines.Scores(loaded.Transform(data)), "loaded", tolerance: 0);
    }

    [TestMethod]
    public void NumericLabelValuesSurviveSaveAndLoad()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = TestVectors.Rows(rowsPerClass: 4).Select(row => new NumericLabelRow { Features = row.Features, Label = row.Label == "top" ? 2.5f : -1f });
        var data = mlContext.Data.LoadFromEnumerable(rows);
        data = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        using var trained = new GhostBatchNormTrainer(mlContext, SmallModel, FastOptions()).Fit(data);
        using var stream = new MemoryStream();
        trained.Save(stream);
        stream.Position = 0;

        using var loaded = GhostBatchNormClassificationTransformer.Load(mlContext, stream, SmallModel);
        var predicted = mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(loaded.Transform(data)).Transform(loaded.Transform(data));

        TestPipelines.AssertPredictedLabelsFollowScores<float>(predicted);
        CollectionAssert.AreEquivalent(new[] { 2.5f, -1f }, predicted.GetColumn<float>("PredictedLabel").Distinct().ToList(), "both classes predicted, with their values");
    }

    [TestMethod]
    public void SameSeedGivesIdenticalScores()
    {
        var mlContext = new MLContext(seed: 1);
        var data = KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 8));
        var options = FastOptions();
        options.FeatureShape = [1, 8, 8];
        options.RandomCropPadding = 2;
        options.HorizontalFlip = true;
        using var first = new GhostBatchNormTrainer(mlContext, ConvModel, options).Fit(data);
        using var second = new GhostBatchNormTrainer(mlContext, ConvModel, options).Fit(data);
        options.Seed = 12345;
        using var other = new GhostBatchNormTrainer(mlContext, ConvModel, options).Fit(data);

        var firstScores = TestPipelines.Scores(first.Transform(data));
        TestPipelines.AssertSameScores(firstScores, TestPipelines.Scores(second.Transform(data)), "same seed", tolerance: 0);
        var otherScores = TestPipelines.Scores(other.Transform(data));
        Assert.IsTrue(firstScores.Zip(otherScores).Any(pair => !pair.First.SequenceEqual(pair.Second)), "another seed trains another model");
    }

    [TestMethod]
    public void EarlyStoppingEndsTrainingWhenTheMetricStalls()
    {
        var mlContext = new MLContext(seed: 1);
        var data = KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 8));
        var epochs = new List<int>();
        var options = FastOptions();
        options.Epoch = 6;
        options.EarlyStoppingCriteria = new GhostBatchNormEarlyStopping(minDelta: 10, patience: 2, EarlyStoppingMetric.Loss);
        options.MetricsCallback = metrics => epochs.Add(metrics.Epoch);

        using var model = new GhostBatchNormTrainer(mlContext, SmallModel, options).Fit(data);

        CollectionAssert.AreEqual(new[] { 1, 2, 3 }, epochs, "no loss can improve by 10: stop after two epochs without improvement");
    }

    [TestMethod]
    public void ConcurrentFitsSharingOptionsStopEarlyIndependently()
    {
        var mlContext = new MLContext(seed: 1);
        var data = KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 8));
        var epochs = new System.Collections.Concurrent.ConcurrentDictionary<int, List<int>>();
        var options = FastOptions();
        options.Epoch = 6;
        options.EarlyStoppingCriteria = new GhostBatchNormEarlyStopping(minDelta: 10, patience: 2, EarlyStoppingMetric.Loss);
        using var lockstep = new Barrier(2);
        options.MetricsCallback = metrics =>
        {
            epochs.GetOrAdd(Environment.CurrentManagedThreadId, _ => []).Add(metrics.Epoch);
            lockstep.SignalAndWait(TimeSpan.FromSeconds(20)); // the two Fits alternate epochs (unless one stopped)
        };
        var trainer = new GhostBatchNormTrainer(mlContext, SmallModel, options);

        var fits = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
        {
            using var model = trainer.Fit(data);
        }, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(fits);

        Assert.HasCount(2, epochs);
        foreach (var fit in epochs.Values)
        {
            CollectionAssert.AreEqual(new[] { 1, 2, 3 }, fit, "each Fit counts its own epochs without improvement");
        }
    }

    [TestMethod]
    public void ImageClassifierAcceptsPixelVectors()
    {
        var mlContext = new MLContext(seed: 1);
        var data = KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 8));
        var options = TestPipelines.FastOptions(epochs: 1);
        var pipeline = new GhostBatchNormImageClassifier(mlContext, options).Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

        using var model = pipeline.Fit(data);
        var scored = model.Transform(data);

        Assert.HasCount(16, scored.GetColumn<string>("PredictedLabel").ToList());
        TestPipelines.AssertPredictedLabelsFollowScores<string>(scored);
    }

    public sealed class NumericLabelRow
    {
        [VectorType(PixelRow.Size)]
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    internal static IDataView KeyedPixels(MLContext mlContext, IEnumerable<PixelRow> rows)
    {
        var data = mlContext.Data.LoadFromEnumerable(rows);
        return mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
    }

    internal static GhostBatchNormTrainer.Options FastOptions() => new()
    {
        BatchSize = 16,
        GhostBatchSize = 8,
        Epoch = 4,
        LearningRate = 0.1f,
        WarmupEpochs = 0,
        Seed = 5,
    };

    internal static nn.Module<Tensor, Tensor> SmallModel(int classes) =>
        nn.Sequential(nn.Linear(PixelRow.Size, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, classes));

    private static nn.Module<Tensor, Tensor> ConvModel(int classes) =>
        nn.Sequential(nn.Conv2d(1, 4, 3, padding: 1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, classes));
}
