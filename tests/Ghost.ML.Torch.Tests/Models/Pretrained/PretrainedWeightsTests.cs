using Ghost.ML.Tests.Shared;
using Ghost.ML.Torch.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests.Models.Pretrained;

[TestClass]
public sealed class PretrainedWeightsTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("ghostml-weights-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    [DataRow(StateDictFormat.PyTorch)]
    [DataRow(StateDictFormat.Safetensors)]
    [DataRow(StateDictFormat.TorchSharp)]
    public void EveryFormatLoadsParametersAndRunningStatistics(StateDictFormat format)
    {
        using var source = TrainedModel(seed: 1, numClasses: 10);
        var path = Save(source, format);
        using var target = NewModel(seed: 2, numClasses: 10);

        var result = PretrainedWeights.Load(target, path);

        Assert.AreEqual(format, StateDictFile.DetectFormat(path));
        CollectionAssert.AreEquivalent(source.state_dict().Keys.ToList(), result.Loaded.ToList());
        Assert.IsEmpty(result.Skipped);
        foreach (var (key, expected) in source.state_dict())
        {
            TensorAssert.AreClose(expected, target.state_dict()[key], 0, key);
        }

        using var input = randn(3, 1, 16, 16);
        source.eval();
        target.eval();
        TensorAssert.AreClose(source.call(input), target.call(input), 0, "logits");
    }

    [TestMethod]
    public void LoadingKeepsTheTensorsAnOptimizerHolds()
    {
        using var source = TrainedModel(seed: 1, numClasses: 10);
        var path = Save(source, StateDictFormat.PyTorch);
        using var target = NewModel(seed: 2, numClasses: 10);
        var before = target.parameters().Select(parameter => parameter.Handle).ToList();

        PretrainedWeights.Load(target, path);

        CollectionAssert.AreEqual(before, target.parameters().Select(parameter => parameter.Handle).ToList());
    }

    [TestMethod]
    public void GhostLayersTakeBatchNormWeights()
    {
        using var source = TrainedModel(seed: 1, numClasses: 10);
        var path = Save(source, StateDictFormat.Safetensors);
        using var target = NewModel(seed: 2, numClasses: 10);
        target.ApplyGhostBatchNorm(ghostBatchSize: 4);

        PretrainedWeights.Load(target, path);

        TensorAssert.AreClose(source.state_dict()["bn1.running_var"], target.state_dict()["bn1.running_var"], 0, "running variance");
    }

    [TestMethod]
    public void SkippingTheClassifierLoadsTheBackboneIntoAModelWithOtherClasses()
    {
        using var source = TrainedModel(seed: 1, numClasses: 10);
        var path = Save(source, StateDictFormat.PyTorch);
        using var target = NewModel(seed: 2, numClasses: 3);
        using var headBefore = target.state_dict()["fc.weight"].clone();

        var result = PretrainedWeights.Load(target, path, skipClassifier: true);

        Assert.AreEqual("fc", PretrainedWeights.ClassifierName(target));
        CollectionAssert.AreEquivalent(new[] { "fc.weight", "fc.bias" }, result.Skipped.ToList());
        Assert.AreEqual(source.state_dict().Count - 2, result.Loaded.Count);
        TensorAssert.AreClose(headBefore, target.state_dict()["fc.weight"], 0, "the new head's initial weights");
        TensorAssert.AreClose(source.state_dict()["conv1.weight"], target.state_dict()["conv1.weight"], 0, "the stem");
    }

    [TestMethod]
    public void AColourStemSummedOverChannelsGivesGreyInputTheOutputOfReplicatedGrey()
    {
        manual_seed(1);
        using var colour = new CifarResNet(8, numClasses: 4, inputChannels: 3);
        var path = Save(colour, StateDictFormat.PyTorch);
        manual_seed(2);
        using var grey = new CifarResNet(8, numClasses: 4, inputChannels: 1);
        var stateDict = StateDictFile.Read(path);

        var adapted = StemAdaptation.SumInputChannels(grey, stateDict);
        PretrainedWeights.Load(grey, stateDict, source: $"'{path}'");

        Assert.AreEqual("conv1.weight", adapted);
        using var image = rand(2, 1, 16, 16);
        colour.eval();
        grey.eval();
        TensorAssert.AreClose(colour.call(image.expand(2, 3, 16, 16)), grey.call(image), 1e-5, "logits");
        foreach (var tensor in stateDict.Values)
        {
            tensor.Dispose();
        }
    }

    [TestMethod]
    public void AStemThatAlreadyFitsIsLeftAsItIs()
    {
        using var source = TrainedModel(seed: 1, numClasses: 10);
        using var target = NewModel(seed: 2, numClasses: 10);
        var stateDict = source.state_dict();

        Assert.IsNull(StemAdaptation.SumInputChannels(target, stateDict));
        TensorAssert.AreClose(source.state_dict()["conv1.weight"], stateDict["conv1.weight"], 0, "the stem");
    }

    [TestMethod]
    public void AShapeMismatchNamesTheKeyAndBothShapesAndCopiesNothing()
    {
        using var source = TrainedModel(seed: 1, numClasses: 10);
        var path = Save(source, StateDictFormat.TorchSharp);
        using var target = NewModel(seed: 2, numClasses: 3);
        using var stemBefore = target.state_dict()["conv1.weight"].clone();

        var error = Assert.ThrowsExactly<InvalidDataException>(() => PretrainedWeights.Load(target, path));

        StringAssert.Contains(error.Message, "shape mismatch at 'fc.weight': model [3, 64], weights [10, 64]");
        StringAssert.Contains(error.Message, "shape mismatch at 'fc.bias': model [3], weights [10]");
        StringAssert.Contains(error.Message, "pass skipClassifier: true");
        TensorAssert.AreClose(stemBefore, target.state_dict()["conv1.weight"], 0, "the stem, untouched");
    }

    [TestMethod]
    public void MissingAndUnexpectedKeysAreNamed()
    {
        using var source = TrainedModel(seed: 1, numClasses: 10);
        var stateDict = source.state_dict()
            .Where(entry => entry.Key != "bn1.running_mean")
            .ToDictionary(entry => entry.Key, entry => entry.Value);
        using var extra = zeros(7);
        stateDict["head.weight"] = extra;
        using var target = NewModel(seed: 2, numClasses: 10);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => PretrainedWeights.Load(target, stateDict, source: "'mine.pth'"));

        StringAssert.StartsWith(error.Message, "The weights in 'mine.pth' do not fit the model (ResNet8)");

        StringAssert.Contains(error.Message, "missing key 'bn1.running_mean' (model [16])");
        StringAssert.Contains(error.Message, "unexpected key 'head.weight' (weights [7])");
    }

    [TestMethod]
    public void AFileOfAnotherArchitectureIsRefused()
    {
        using var source = new CifarResNet(14, numClasses: 10, inputChannels: 1);
        var path = Save(source, StateDictFormat.Safetensors);
        using var target = NewModel(seed: 2, numClasses: 10);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => PretrainedWeights.Load(target, path));

        StringAssert.Contains(error.Message, "unexpected key 'layer1.1.conv1.weight'");
        StringAssert.Contains(error.Message, "Check that the model's architecture is the one the weights were trained for.");
    }

    [TestMethod]
    [DataRow(StateDictFormat.PyTorch)]
    [DataRow(StateDictFormat.Safetensors)]
    [DataRow(StateDictFormat.TorchSharp)]
    public void ATruncatedFileIsReportedAsDamaged(StateDictFormat format)
    {
        using var source = TrainedModel(seed: 1, numClasses: 10);
        var path = Save(source, format);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        using var target = NewModel(seed: 2, numClasses: 10);

        Assert.ThrowsExactly<InvalidDataException>(() => PretrainedWeights.Load(target, path));
    }

    [TestMethod]
    public void ATextFileIsNotAStateDict()
    {
        var path = Path.Combine(_folder, "notes.pth");
        File.WriteAllText(path, "these are not weights");
        using var target = NewModel(seed: 2, numClasses: 10);

        Assert.ThrowsExactly<InvalidDataException>(() => PretrainedWeights.Load(target, path));
    }

    [TestMethod]
    public void PyTorchsLegacyPickleFormatIsNamedWithItsFix()
    {
        var path = Path.Combine(_folder, "legacy.pth");
        File.WriteAllBytes(path, [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8]);
        using var target = NewModel(seed: 2, numClasses: 10);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => PretrainedWeights.Load(target, path));

        StringAssert.Contains(error.Message, "legacy format");
        StringAssert.Contains(error.Message, "torch.save(model.state_dict(), path)");
    }

    [TestMethod]
    public void ATorchSharpFileOf128TensorsIsNotMistakenForPyTorchsLegacyFormat()
    {
        // 128 entries: the count is written as the bytes 0x80 0x01, which also open a legacy pickle.
        using var source = nn.Sequential(Enumerable.Range(0, 64).Select(index => ($"linear{index}", (nn.Module<Tensor, Tensor>)nn.Linear(1, 1))).ToArray());
        var path = Save(source, StateDictFormat.TorchSharp);

        Assert.AreEqual(0x80, File.ReadAllBytes(path)[0]);
        Assert.AreEqual(StateDictFormat.TorchSharp, StateDictFile.DetectFormat(path));
        Assert.HasCount(128, StateDictFile.Read(path));
    }

    [TestMethod]
    public void AMissingFileIsNamed()
    {
        using var target = NewModel(seed: 2, numClasses: 10);
        var path = Path.Combine(_folder, "absent.pth");

        var error = Assert.ThrowsExactly<FileNotFoundException>(() => PretrainedWeights.Load(target, path));

        Assert.AreEqual(path, error.FileName);
    }

    private static CifarResNet NewModel(int seed, int numClasses)
    {
        manual_seed(seed);
        return new CifarResNet(8, numClasses, inputChannels: 1);
    }

    /// <summary>A model whose running statistics have moved away from their initial values.</summary>
    private static CifarResNet TrainedModel(int seed, int numClasses)
    {
        var model = NewModel(seed, numClasses);
        model.train();
        using (no_grad())
        {
            model.call(randn(8, 1, 16, 16)).Dispose();
        }

        return model;
    }

    private string Save(nn.Module model, StateDictFormat format) => WeightsFiles.Save(model, format, _folder);
}
