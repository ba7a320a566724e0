using Microsoft.ML;

namespace Ghost.ML.Tests.Estimators;

/// <summary>Every kind of bad input fails at Fit with a clear exception that names the column, row or option.</summary>
[TestClass]
public sealed class BadInputTests : SingleThreadedTorchTests
{
    private static readonly MLContext s_mlContext = new(seed: 1);

    [TestMethod]
    public void MissingFeatureColumn()
    {
        var data = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, TestVectors.Rows(2));
        var options = TestPipelines.FastOptions();
        options.FeatureColumnName = "Image";
        AssertFitFails<ArgumentOutOfRangeException>(new GhostBatchNormImageClassifier(s_mlContext, options), data, "'Image'");
    }

    [TestMethod]
    public void MissingLabelColumn()
    {
        var data = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, TestVectors.Rows(2));
        var options = TestPipelines.FastOptions();
        options.LabelColumnName = "Class";
        AssertFitFails<ArgumentOutOfRangeException>(new GhostBatchNormImageClassifier(s_mlContext, options), data, "'Class'");
    }

    [TestMethod]
    public void WrongFeatureColumnType()
    {
        var data = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, TestVectors.Rows(2));
        var options = TestPipelines.FastOptions();
        options.FeatureColumnName = "Label";
        AssertFitFails<ArgumentOutOfRangeException>(new GhostBatchNormImageClassifier(s_mlContext, options), data, "'Label'");
    }

    [TestMethod]
    public void PixelVectorOfTheWrongSize()
    {
        var data = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, TestVectors.Rows(2));
        var options = TestPipelines.FastOptions();
        options.ImageWidth = 16;
        AssertFitFails<ArgumentOutOfRangeException>(new GhostBatchNormImageClassifier(s_mlContext, options), data, "'Features'");
    }

    [TestMethod]
    public void LabelThatIsNotAKey()
    {
        var data = s_mlContext.Data.LoadFromEnumerable(TestVectors.Rows(2));
        AssertFitFails<ArgumentOutOfRangeException>(new GhostBatchNormImageClassifier(s_mlContext, TestPipelines.FastOptions()), data, "MapValueToKey");
    }

    [TestMethod]
    public void UndecodableImageNamesTheRow()
    {
        using var images = new TestImageFolder(imagesPerClass: 2);
        var rows = images.Rows.Append(images.AddBrokenImage("top")).ToList();
        var data = s_mlContext.Data.LoadFromEnumerable(rows);
        var error = AssertFitFails<InvalidDataException>(TestPipelines.Canonical(s_mlContext, images.Path, TestPipelines.FastOptions()), data, "Row 4");
        StringAssert.Contains(error.Message, "'Features'");
        StringAssert.Contains(error.Message, $"ImagePath = '{rows[4].ImagePath}'");
    }

    [TestMethod]
    public void MissingImageFileIsNamedWithoutTheSplitterWrapping()
    {
        using var images = new TestImageFolder(imagesPerClass: 2);
        var rows = images.Rows.Append(new ImageRow { ImagePath = "missing.png", Label = "top" });
        var error = AssertFitFails<InvalidDataException>(TestPipelines.Canonical(s_mlContext, images.Path, TestPipelines.FastOptions()),
            s_mlContext.Data.LoadFromEnumerable(rows), "The training set could not be read: Could not find file");
        StringAssert.Contains(error.Message, "missing.png");
    }

    [TestMethod]
    public void EmptyTrainingSet()
    {
        var data = KeyedLike(TestVectors.Rows(2), []);
        AssertFitFails<InvalidDataException>(new GhostBatchNormImageClassifier(s_mlContext, TestPipelines.FastOptions()), data, "empty");
    }

    [TestMethod]
    public void EmptyTrainingSetKeyedOnItself()
    {
        var data = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, []);
        AssertFitFails<InvalidDataException>(new GhostBatchNormTrainer(s_mlContext, GhostBatchNormTrainerTests.SmallModel, GhostBatchNormTrainerTests.FastOptions()), data, "empty");
    }

    [TestMethod]
    public void SingleClass()
    {
        var rows = TestVectors.Rows(4).Where(row => row.Label == "top");
        var data = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, rows);
        AssertFitFails<ArgumentOutOfRangeException>(new GhostBatchNormImageClassifier(s_mlContext, TestPipelines.FastOptions()), data, "at least two");
    }

    [TestMethod]
    public void SingleClassPresentInATwoClassKey()
    {
        var rows = TestVectors.Rows(4);
        var data = KeyedLike(rows, rows.Where(row => row.Label == "top"));
        AssertFitFails<InvalidDataException>(new GhostBatchNormImageClassifier(s_mlContext, TestPipelines.FastOptions()), data, "single class");
    }

    [TestMethod]
    public void ValidationSetKeyedDifferently()
    {
        var rows = TestVectors.Rows(4);
        var options = TestPipelines.FastOptions();
        var threeClasses = rows.Append(new PixelRow { Features = rows[0].Features, Label = "middle" });
        options.ValidationSet = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, threeClasses);
        AssertFitFails<ArgumentOutOfRangeException>(new GhostBatchNormImageClassifier(s_mlContext, options), GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, rows), "same fitted MapValueToKey");
    }

    [TestMethod]
    public void ValidationSetKeyedByItsOwnMapValueToKey()
    {
        var rows = TestVectors.Rows(4);
        var options = TestPipelines.FastOptions();
        var bottomFirst = rows.Where(row => row.Label == "bottom").Concat(rows.Where(row => row.Label == "top"));
        options.ValidationSet = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, bottomFirst);
        var error = AssertFitFails<ArgumentOutOfRangeException>(new GhostBatchNormImageClassifier(s_mlContext, options),
            GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, rows), "numbers its classes differently");
        StringAssert.Contains(error.Message, "key 1 is 'bottom' there and 'top' in the training set");
    }

    [TestMethod]
    public void NetworkWithMoreOutputsThanClasses()
    {
        var data = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, TestVectors.Rows(4));
        var trainer = new GhostBatchNormTrainer(s_mlContext, classes => GhostBatchNormTrainerTests.SmallModel(classes + 3), GhostBatchNormTrainerTests.FastOptions());
        var error = AssertFitFails<InvalidOperationException>(trainer, data, "outputs 5 values per sample");
        StringAssert.Contains(error.Message, "has 2 classes");
    }

    [TestMethod]
    [DataRow(float.NaN, "NaN")]
    [DataRow(float.PositiveInfinity, "Infinity")]
    [DataRow(float.NegativeInfinity, "-Infinity")]
    public void NonFiniteFeatureValueNamesTheRowAndColumn(float value, string shown)
    {
        var rows = TestVectors.Rows(4);
        rows[5].Features[10] = value;
        var data = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, rows);
        var error = AssertFitFails<InvalidDataException>(new GhostBatchNormTrainer(s_mlContext, GhostBatchNormTrainerTests.SmallModel, GhostBatchNormTrainerTests.FastOptions()),
            data, "Row 5, feature column 'Features': value 10 is " + shown);
        StringAssert.Contains(error.Message, "training set");
    }

    [TestMethod]
    [DataRow(nameof(GhostBatchNormTrainingOptions.BatchSize), 0)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.GhostBatchSize), -1)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.Epoch), 0)]
    [DataRow(nameof(GhostBatchNormImageClassifier.Options.ImageWidth), 7)]
    [DataRow(nameof(GhostBatchNormImageClassifier.Options.ImageWidth), 100000)]
    [DataRow(nameof(GhostBatchNormImageClassifier.Options.ImageHeight), 4)]
    [DataRow(nameof(GhostBatchNormImageClassifier.Options.ImageHeight), 1025)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.ScoringBatchSize), 0)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.RandomCropPadding), -2)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.LearningRate), 0f)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.LearningRate), float.NaN)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.WeightDecay), -1f)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.Momentum), 5f)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.Momentum), 1f)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.WarmupEpochs), 1000f)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.TrainingCacheBudgetBytes), -1L)]
    [DataRow(nameof(GhostBatchNormTrainingOptions.Device), "tpu")]
    [DataRow(nameof(GhostBatchNormTrainingOptions.ScoreColumnName), " ")]
    public void InvalidOptionFailsWhenTheEstimatorIsCreated(string option, object value)
    {
        var options = TestPipelines.FastOptions();
        typeof(GhostBatchNormImageClassifier.Options).GetField(option)!.SetValue(options, value);
        var error = Assert.Throws<ArgumentException>(() => new GhostBatchNormImageClassifier(s_mlContext, options));
        Assert.AreEqual(option, error.ParamName);
        Assert.AreEqual(option, Assert.Throws<ArgumentException>(() => s_mlContext.MulticlassClassification.Trainers.GhostBatchNormImageClassification(options)).ParamName);
    }

    [TestMethod]
    public void ImageSizeOutOfRangeNamesTheRange()
    {
        var options = TestPipelines.FastOptions();
        options.ImageWidth = 100000;
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GhostBatchNormImageClassifier(s_mlContext, options));
        StringAssert.Contains(error.Message, $"from 8 to {GhostBatchNormImageClassifier.Options.MaxImageSize}");
    }

    [TestMethod]
    public void NullColumnNameIsNamedAsNull()
    {
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.LabelColumnName = null!;
        var error = Assert.Throws<ArgumentException>(() => new GhostBatchNormTrainer(s_mlContext, GhostBatchNormTrainerTests.SmallModel, options));
        Assert.AreEqual(nameof(options.LabelColumnName), error.ParamName);
        StringAssert.Contains(error.Message, "LabelColumnName must name a column; it is null");
    }

    [TestMethod]
    public void OptionChangedAfterConstructionIsCheckedAgainInFit()
    {
        var options = GhostBatchNormTrainerTests.FastOptions();
        var trainer = new GhostBatchNormTrainer(s_mlContext, GhostBatchNormTrainerTests.SmallModel, options);
        options.BatchSize = 0;
        var data = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, TestVectors.Rows(2));
        Assert.AreEqual(nameof(options.BatchSize), Assert.Throws<ArgumentException>(() => trainer.Fit(data)).ParamName);
    }

    [TestMethod]
    public void CudaRequestedWithoutCuda()
    {
        if (TorchSharp.torch.cuda.is_available())
        {
            Assert.Inconclusive("This machine has CUDA.");
        }

        var options = TestPipelines.FastOptions();
        options.Device = "cuda";
        var data = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, TestVectors.Rows(2));
        AssertFitFails<InvalidOperationException>(new GhostBatchNormImageClassifier(s_mlContext, options), data, "\"auto\" or \"cpu\"");
    }

    [TestMethod]
    public void NaNLossStopsAndSuggestsALowerLearningRate()
    {
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.LearningRate = 1e30f;
        var data = GhostBatchNormTrainerTests.KeyedPixels(s_mlContext, TestVectors.Rows(8));
        AssertFitFails<InvalidOperationException>(new GhostBatchNormTrainer(s_mlContext, GhostBatchNormTrainerTests.SmallModel, options), data, "Lower the LearningRate");
    }

    /// <summary><paramref name="rows"/> with the label keyed as in <paramref name="keySource"/> (both classes).</summary>
    private static IDataView KeyedLike(IEnumerable<PixelRow> keySource, IEnumerable<PixelRow> rows) =>
        s_mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Fit(s_mlContext.Data.LoadFromEnumerable(keySource))
            .Transform(s_mlContext.Data.LoadFromEnumerable(rows));

    private static T AssertFitFails<T>(IEstimator<ITransformer> estimator, IDataView data, string expectedText)
        where T : Exception
    {
        var error = Assert.ThrowsExactly<T>(() => estimator.Fit(data));
        StringAssert.Contains(error.Message, expectedText, error.Message);
        return error;
    }
}
