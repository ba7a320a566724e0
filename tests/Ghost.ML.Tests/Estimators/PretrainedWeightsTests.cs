using Ghost.ML.Tests.Shared;
using Ghost.ML.Torch.Models;
using Microsoft.ML;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Tests.Estimators;

/// <summary>Fits that start from a weights file: every format, a saved Ghost.ML model, a new classifier, a grey stem, and every mismatch.</summary>
[TestClass]
public sealed class PretrainedWeightsTests : SingleThreadedTorchTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("ghostml-pretrained-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    [DataRow(StateDictFormat.PyTorch)]
    [DataRow(StateDictFormat.Safetensors)]
    [DataRow(StateDictFormat.TorchSharp)]
    public void EveryFormatStartsTheNetworkAndAFrozenEpochTrainsOnlyTheClassifier(StateDictFormat format)
    {
        using var source = ResNet20(classes: 2, channels: 1, seed: 11);
        var path = Save(source, format);
        var (mlContext, log) = LoggingContext();
        var options = Options(path);
        options.FreezeBackboneEpochs = 1;

        using var model = new GhostBatchNormImageClassifier(mlContext, options).Fit(Pixels(mlContext));

        AssertBackboneEqualsAndClassifierMoved(source.state_dict(), model);
        Assert.Contains($"Started from '{path}', a {format} state_dict: {source.state_dict().Count} tensors loaded.", log);
    }

    [TestMethod]
    public void TheBackboneLearnsAtItsFactorOfTheLearningRate()
    {
        using var source = ResNet20(classes: 2, channels: 1, seed: 11);
        var path = Save(source, StateDictFormat.TorchSharp);
        var mlContext = new MLContext(seed: 1);
        var still = Options(path);
        still.BackboneLearningRateFactor = 0;
        var moving = Options(path);
        moving.BackboneLearningRateFactor = 1;

        using var stillModel = new GhostBatchNormImageClassifier(mlContext, still).Fit(Pixels(mlContext));
        using var movingModel = new GhostBatchNormImageClassifier(mlContext, moving).Fit(Pixels(mlContext));

        AssertBackboneEqualsAndClassifierMoved(source.state_dict(), stillModel);
        Assert.IsGreaterThan(0f, (source.state_dict()["conv1.weight"] - movingModel.Classifier.Network.state_dict()["conv1.weight"]).abs().max().item<float>());
    }

    [TestMethod]
    public void TrainingContinuesFromASavedGhostMlModelWithItsInputNormalization()
    {
        var (mlContext, log) = LoggingContext();
        var data = Pixels(mlContext);
        var first = Options(path: null);
        var path = Path.Combine(_folder, "model.zip");
        float[] savedMean;
        Dictionary<string, Tensor> saved;
        using (var trained = new GhostBatchNormImageClassifier(mlContext, first).Fit(data))
        {
            trained.Save(path);
            savedMean = trained.Classifier.Input.ChannelMean!;
            saved = trained.Classifier.Network.state_dict().ToDictionary(entry => entry.Key, entry => entry.Value.clone());
        }

        var options = Options(path);
        options.FreezeBackboneEpochs = 1;
        using var model = new GhostBatchNormImageClassifier(mlContext, options).Fit(data);

        AssertBackboneEqualsAndClassifierMoved(saved, model);
        CollectionAssert.AreEqual(savedMean, model.Classifier.Input.ChannelMean);
        Assert.IsTrue(log.Any(line => line.StartsWith($"Started from '{path}', a Ghost.ML model (2 classes)", StringComparison.Ordinal)), string.Join("\n", log));
    }

    [TestMethod]
    public void TrainingContinuesFromAnMLNetModelFileHoldingTheClassifier()
    {
        var (mlContext, log) = LoggingContext();
        var data = Pixels(mlContext);
        var path = Path.Combine(_folder, "mlnet-model.zip");
        Dictionary<string, Tensor> saved;
        using (var trained = new GhostBatchNormImageClassifier(mlContext, Options(path: null)).Fit(data))
        {
            var chain = new Microsoft.ML.Data.TransformerChain<GhostBatchNormClassificationTransformer>(trained);
            mlContext.Model.Save(chain, data.Schema, path);
            saved = trained.Classifier.Network.state_dict().ToDictionary(entry => entry.Key, entry => entry.Value.clone());
        }

        var options = Options(path);
        options.FreezeBackboneEpochs = 1;
        using var model = new GhostBatchNormImageClassifier(mlContext, options).Fit(data);

        AssertBackboneEqualsAndClassifierMoved(saved, model);
        Assert.IsTrue(log.Any(line => line.StartsWith($"Started from '{path}', a Ghost.ML model (2 classes)", StringComparison.Ordinal)), string.Join("\n", log));
    }

    [TestMethod]
    public void AnotherClassCountReplacesTheClassifierLogsItAndFreezesTheBackboneForAnEpoch()
    {
        using var source = ResNet20(classes: 5, channels: 1, seed: 11);
        var path = Save(source, StateDictFormat.PyTorch);
        var (mlContext, log) = LoggingContext();

        using var model = new GhostBatchNormImageClassifier(mlContext, Options(path)).Fit(Pixels(mlContext));

        Assert.Contains("The classifier 'fc' is replaced by a new Linear layer: the weights have 5 classes, the training set 2.", log);
        Assert.IsTrue(log.Any(line => line.StartsWith("Fine-tuning: only the classifier 'fc' trains for the first 1 epoch(s)", StringComparison.Ordinal)), "default freeze");
        Assert.AreEqual(2, model.ClassCount);
        var trained = model.Classifier.Network.state_dict();
        TensorAssertEqual(source.state_dict()["layer3.2.conv2.weight"], trained["layer3.2.conv2.weight"], "the backbone, frozen for the one epoch");
    }

    [TestMethod]
    public void GreyInputSumsAColourStemOverItsChannels()
    {
        using var source = ResNet20(classes: 2, channels: 3, seed: 11);
        var path = Save(source, StateDictFormat.Safetensors);
        var (mlContext, log) = LoggingContext();
        var options = Options(path);
        options.FreezeBackboneEpochs = 1;

        using var model = new GhostBatchNormImageClassifier(mlContext, options).Fit(Pixels(mlContext));

        using var summed = source.state_dict()["conv1.weight"].sum(dim: 1, keepdim: true);
        TensorAssertEqual(summed, model.Classifier.Network.state_dict()["conv1.weight"], "the stem");
        Assert.Contains("The stem 'conv1.weight' expects colour and the input is grey: its weights are summed over the input channels.", log);
    }

    [TestMethod]
    public void WeightsOfAnotherArchitectureNameItTheFileAndTheKeys()
    {
        manual_seed(1);
        using var source = ResNetFactory.Create(ResNetArchitecture.ResNet32, 2, 1);
        var path = Save(source, StateDictFormat.PyTorch);
        var mlContext = new MLContext(seed: 1);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => new GhostBatchNormImageClassifier(mlContext, Options(path)).Fit(Pixels(mlContext)));

        StringAssert.Contains(error.Message, "PretrainedWeightsPath does not fit the ResNet20 network.");
        StringAssert.Contains(error.Message, $"'{path}'");
        StringAssert.Matches(error.Message, new System.Text.RegularExpressions.Regex(@"unexpected key 'layer[123]\.[34]\."));
    }

    [TestMethod]
    public void ASavedModelOfAnotherArchitectureIsRefusedNamingBoth()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Pixels(mlContext);
        var path = Path.Combine(_folder, "resnet32.zip");
        var options = Options(path: null);
        options.Architecture = ResNetArchitecture.ResNet32;
        using (var trained = new GhostBatchNormImageClassifier(mlContext, options).Fit(data))
        {
            trained.Save(path);
        }

        var error = Assert.ThrowsExactly<InvalidDataException>(() => new GhostBatchNormImageClassifier(mlContext, Options(path)).Fit(data));

        StringAssert.Contains(error.Message, $"'{path}' is a Ghost.ML model of the ResNet32 network; this estimator trains the ResNet20 network.");
    }

    [TestMethod]
    public void ACustomNetworkOfOtherShapesNamesTheKeyAndBothShapes()
    {
        manual_seed(1);
        using var source = nn.Sequential(nn.Linear(PixelRow.Size, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2));
        var path = Save(source, StateDictFormat.TorchSharp);
        var mlContext = new MLContext(seed: 1);
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.PretrainedWeightsPath = path;
        var data = GhostBatchNormTrainerTests.KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 8));

        var error = Assert.ThrowsExactly<InvalidDataException>(() => new GhostBatchNormTrainer(mlContext, GhostBatchNormTrainerTests.SmallModel, options).Fit(data));

        StringAssert.Contains(error.Message, "the custom network of GhostBatchNormTrainer's modelFactory");
        StringAssert.Contains(error.Message, "shape mismatch at '0.weight': model [16, 64], weights [8, 64]");
    }

    [TestMethod]
    public void AMissingFileOrOneThatHoldsNoWeightsIsNamed()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Pixels(mlContext);
        var missing = Path.Combine(_folder, "absent.pth");
        var text = Path.Combine(_folder, "notes.pth");
        File.WriteAllText(text, "no weights here");

        var notFound = Assert.ThrowsExactly<FileNotFoundException>(() => new GhostBatchNormImageClassifier(mlContext, Options(missing)).Fit(data));
        var notWeights = Assert.ThrowsExactly<InvalidDataException>(() => new GhostBatchNormImageClassifier(mlContext, Options(text)).Fit(data));

        Assert.AreEqual(missing, notFound.FileName);
        StringAssert.Contains(notWeights.Message, $"'{text}'");
    }

    [TestMethod]
    public void FineTuningOptionsAreCheckedAtConstruction()
    {
        var mlContext = new MLContext(seed: 1);
        var freeze = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GhostBatchNormImageClassifier(mlContext, new GhostBatchNormImageClassifier.Options { FreezeBackboneEpochs = -1 }));
        var factor = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GhostBatchNormImageClassifier(mlContext, new GhostBatchNormImageClassifier.Options { BackboneLearningRateFactor = float.NaN }));
        var path = Assert.ThrowsExactly<ArgumentException>(() => new GhostBatchNormImageClassifier(mlContext, new GhostBatchNormImageClassifier.Options { PretrainedWeightsPath = " " }));

        Assert.AreEqual("FreezeBackboneEpochs", freeze.ParamName);
        Assert.AreEqual("BackboneLearningRateFactor", factor.ParamName);
        Assert.AreEqual("PretrainedWeightsPath", path.ParamName);
    }

    /// <summary>Every parameter but the classifier's as in <paramref name="expected"/>; the classifier's changed.</summary>
    internal static void AssertBackboneEqualsAndClassifierMoved(IDictionary<string, Tensor> expected, GhostBatchNormClassificationTransformer model)
    {
        var network = model.Classifier.Network;
        foreach (var (name, parameter) in network.named_parameters())
        {
            if (name.StartsWith("fc.", StringComparison.Ordinal))
            {
                Assert.IsGreaterThan(0f, (expected[name] - parameter).abs().max().item<float>(), $"{name}: the classifier trained");
            }
            else
            {
                TensorAssertEqual(expected[name], parameter, name);
            }
        }
    }

    internal static void TensorAssertEqual(Tensor expected, Tensor actual, string what) =>
        Assert.AreEqual(0, (expected - actual).abs().max().item<float>(), 1e-6, what);

    internal static (MLContext Context, List<string> Log) LoggingContext()
    {
        var mlContext = new MLContext(seed: 1);
        var log = new List<string>();
        mlContext.Log += (_, e) =>
        {
            if (e.Source.StartsWith("GhostBatchNorm", StringComparison.Ordinal))
            {
                lock (log)
                {
                    log.Add(e.RawMessage);
                }
            }
        };
        return (mlContext, log);
    }

    /// <summary>Two-class 1×8×8 pixel vectors, keyed.</summary>
    internal static IDataView Pixels(MLContext mlContext, int rowsPerClass = 8) =>
        GhostBatchNormTrainerTests.KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass));

    internal static GhostBatchNormImageClassifier.Options Options(string? path)
    {
        var options = TestPipelines.FastOptions(epochs: 1);
        options.PretrainedWeightsPath = path;
        options.RandomCropPadding = 1;
        return options;
    }

    private static nn.Module<Tensor, Tensor> ResNet20(int classes, int channels, int seed)
    {
        manual_seed(seed);
        var model = ResNetFactory.Create(ResNetArchitecture.ResNet20, classes, channels);
        model.train();
        using (no_grad())
        {
            // Running statistics away from their initial values, so that loading them is visible.
            model.call(randn(8, channels, 8, 8)).Dispose();
        }

        return model;
    }

    private string Save(nn.Module model, StateDictFormat format) => WeightsFiles.Save(model, format, _folder);
}
