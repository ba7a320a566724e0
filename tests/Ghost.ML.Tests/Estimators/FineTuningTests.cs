using Microsoft.ML;

namespace Ghost.ML.Tests.Estimators;

/// <summary>Hold-out, best-epoch restore and input normalization through the image classifier.</summary>
[TestClass]
public sealed class FineTuningTests : SingleThreadedTorchTests
{
    [TestMethod]
    public void ValidationSetFractionHoldsOutAStratifiedPartAndLogsTheSizes()
    {
        var (mlContext, log) = PretrainedWeightsTests.LoggingContext();
        var epochs = new List<GhostBatchNormEpochMetrics>();
        var options = PretrainedWeightsTests.Options(path: null);
        options.ValidationSetFraction = 0.25f;
        options.MetricsCallback = epochs.Add;

        using var model = new GhostBatchNormImageClassifier(mlContext, options).Fit(PretrainedWeightsTests.Pixels(mlContext, rowsPerClass: 10));

        Assert.Contains("Held out 6 of 20 training samples for validation (ValidationSetFraction 0.25, stratified by class); 14 train.", log);
        Assert.IsNotNull(epochs.Single().ValidationAccuracy);
        var accuracy = epochs.Single().ValidationAccuracy!.Value * 6;
        Assert.AreEqual(Math.Round(accuracy), accuracy, 1e-9, "accuracy measured on 6 samples");
    }

    [TestMethod]
    public void AFractionThatHoldsOutNothingOrAllIsRefused()
    {
        var mlContext = new MLContext(seed: 1);
        var tiny = PretrainedWeightsTests.Options(path: null);
        tiny.ValidationSetFraction = 0.01f;

        var none = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GhostBatchNormImageClassifier(mlContext, tiny).Fit(PretrainedWeightsTests.Pixels(mlContext)));
        var all = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GhostBatchNormImageClassifier(mlContext, new GhostBatchNormImageClassifier.Options { ValidationSetFraction = 1 }));

        Assert.AreEqual("ValidationSetFraction", none.ParamName);
        StringAssert.Contains(none.Message, "holds out none");
        Assert.AreEqual("ValidationSetFraction", all.ParamName);
    }

    [TestMethod]
    public void EarlyStoppingKeepsTheBestEpochsWeightsUnlessAskedForTheLast()
    {
        var mlContext = new MLContext(seed: 1);
        var data = PretrainedWeightsTests.Pixels(mlContext);
        var (loggingContext, restoreLog) = PretrainedWeightsTests.LoggingContext();

        // With a MinDelta no epoch can beat, the first epoch stays the best: the restored weights must be its own.
        var restored = Scores(loggingContext, data, epochs: 3, new GhostBatchNormEarlyStopping(minDelta: 1000, patience: 10, EarlyStoppingMetric.Loss));
        var last = Scores(mlContext, data, epochs: 3, new GhostBatchNormEarlyStopping(minDelta: 1000, patience: 10, EarlyStoppingMetric.Loss, restoreBestWeights: false));
        var firstEpoch = Scores(mlContext, data, epochs: 1, criterion: null);

        TestPipelines.AssertSameScores(firstEpoch, restored, "the best epoch's weights");
        Assert.IsTrue(firstEpoch.Zip(last).Any(pair => pair.First.Zip(pair.Second).Any(score => Math.Abs(score.First - score.Second) > 1e-4)), "the last epoch's weights differ");
        Assert.Contains("Kept the weights of epoch 1, the best by training loss, instead of the last epoch's (3) (RestoreBestWeights).", restoreLog);
    }

    [TestMethod]
    public void AGivenNormalizationIsUsedSavedAndRestoredAndGreyInputTakesItsMean()
    {
        var mlContext = new MLContext(seed: 1);
        var options = PretrainedWeightsTests.Options(path: null);
        options.InputNormalization = InputNormalization.ImageNet;

        using var model = new GhostBatchNormImageClassifier(mlContext, options).Fit(PretrainedWeightsTests.Pixels(mlContext));
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        using var loaded = GhostBatchNormClassificationTransformer.Load(mlContext, stream, "cpu");

        CollectionAssert.AreEqual(new[] { (0.485f + 0.456f + 0.406f) / 3 }, model.Classifier.Input.ChannelMean);
        CollectionAssert.AreEqual(new[] { (0.229f + 0.224f + 0.225f) / 3 }, model.Classifier.Input.ChannelStd);
        CollectionAssert.AreEqual(model.Classifier.Input.ChannelMean, loaded.Classifier.Input.ChannelMean);
        CollectionAssert.AreEqual(model.Classifier.Input.ChannelStd, loaded.Classifier.Input.ChannelStd);
    }

    [TestMethod]
    public void ANormalizationOfOtherChannelsIsRefused()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new InputNormalization([0.5f, 0.5f], [0.2f]));
        Assert.ThrowsExactly<ArgumentException>(() => new InputNormalization([0.5f], [0f]));
        var mlContext = new MLContext(seed: 1);
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.InputNormalization = new InputNormalization([0.1f, 0.2f], [1f, 1f]);
        options.FeatureShape = [4, 16];
        var data = GhostBatchNormTrainerTests.KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 4));

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GhostBatchNormTrainer(mlContext, GhostBatchNormTrainerTests.SmallModel, options).Fit(data));

        Assert.AreEqual("InputNormalization", error.ParamName);
    }

    private static float[][] Scores(MLContext mlContext, IDataView data, int epochs, GhostBatchNormEarlyStopping? criterion)
    {
        var options = PretrainedWeightsTests.Options(path: null);
        options.Epoch = epochs;
        options.CosineDecay = false;
        options.WarmupEpochs = 0;
        options.LearningRate = 0.2f;
        options.EarlyStoppingCriteria = criterion;
        using var model = new GhostBatchNormImageClassifier(mlContext, options).Fit(data);
        return TestPipelines.Scores(model.Transform(data));
    }
}
