using Ghost.ML.Torch.Models;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests.Export;

[TestClass]
public sealed class OnnxExportTests
{
    [TestMethod]
    public void ModelHasOneInputWithDynamicBatchAndOneOutputOfLogits()
    {
        manual_seed(31);
        using var model = ResNetFactory.Create(ResNetArchitecture.ResNet20, numClasses: 4, inputChannels: 3);

        var onnx = ModelProto.Parser.ParseFrom(OnnxRoundTrip.Export(model, 3, 10, 12));

        Assert.AreEqual(8L, onnx.IrVersion);
        Assert.AreEqual(17L, onnx.OpsetImport.Single().Version);
        var input = onnx.Graph.Input.Single();
        Assert.AreEqual("input", input.Name);
        CollectionAssert.AreEqual(new[] { "N", "", "", "" }, input.Type.TensorType.Shape.Dim.Select(dimension => dimension.DimParam).ToList());
        CollectionAssert.AreEqual(new[] { 0L, 3, 10, 12 }, input.Type.TensorType.Shape.Dim.Select(dimension => dimension.DimValue).ToList());
        var output = onnx.Graph.Output.Single();
        Assert.AreEqual("output", output.Name);
        CollectionAssert.AreEqual(new[] { 0L, 4 }, output.Type.TensorType.Shape.Dim.Select(dimension => dimension.DimValue).ToList());
        Assert.AreEqual("Gemm", onnx.Graph.Node.Single(node => node.Output.Contains("output")).OpType, "the logits, nothing after them");
    }

    [TestMethod]
    public void FileAndStreamOverloadsWriteTheSameModel()
    {
        manual_seed(32);
        using var model = ResNetFactory.Create(ResNetArchitecture.ResNet20, numClasses: 3, inputChannels: 1);
        var path = Path.Combine(Path.GetTempPath(), $"ghost-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            model.ExportToOnnx(path, 1, 8, 8);

            CollectionAssert.AreEqual(OnnxRoundTrip.Export(model, 1, 8, 8), File.ReadAllBytes(path));
            using var session = new InferenceSession(path);
            OnnxRoundTrip.AssertAgrees(model, session, randn(2, 1, 8, 8), "from the file");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void TrainOrEvalModeOfEveryModuleIsRestored()
    {
        using var model = ResNetFactory.Create(ResNetArchitecture.ResNet20, numClasses: 3, inputChannels: 1);
        model.train();
        var frozen = model.named_modules().Single(module => module.name == "layer2.1.bn1").module;
        frozen.eval();

        OnnxRoundTrip.Export(model, 1, 8, 8);

        Assert.IsTrue(model.training);
        Assert.IsFalse(frozen.training);
        Assert.IsTrue(model.named_modules().Where(module => module.module != frozen).All(module => module.module.training));
    }

    [TestMethod]
    public void UnsupportedModuleIsNamedByPathAndType()
    {
        using var model = nn.Sequential(
            ("features", nn.Sequential(nn.Conv2d(1, 2, kernel_size: 3), nn.GELU())),
            ("flatten", nn.Flatten()));

        var error = Assert.ThrowsExactly<NotSupportedException>(() => OnnxRoundTrip.Export(model, 1, 6, 6));

        StringAssert.Contains(error.Message, "'features.1'");
        StringAssert.Contains(error.Message, "TorchSharp.Modules.GELU");
    }

    [TestMethod]
    public void UnsupportedModelItselfIsNamedAsSuch()
    {
        using var model = nn.GELU();

        var error = Assert.ThrowsExactly<NotSupportedException>(() => OnnxRoundTrip.Export(model, 4));

        StringAssert.Contains(error.Message, "the model itself");
    }

    [TestMethod]
    public void BatchNormWithoutRunningStatisticsIsRefusedRatherThanFolded()
    {
        using var model = nn.Sequential(
            ("conv", nn.Conv2d(1, 2, kernel_size: 3)),
            ("norm", nn.BatchNorm2d(2, track_running_stats: false)));

        var error = Assert.ThrowsExactly<NotSupportedException>(() => OnnxRoundTrip.Export(model, 1, 6, 6));

        StringAssert.Contains(error.Message, "'norm'");
        StringAssert.Contains(error.Message, "running statistics");
    }

    [TestMethod]
    public void NothingIsWrittenWhenTheModelCannotBeExported()
    {
        using var model = nn.Sequential(nn.GELU());
        var path = Path.Combine(Path.GetTempPath(), $"ghost-onnx-{Guid.NewGuid():N}.onnx");

        Assert.ThrowsExactly<NotSupportedException>(() => model.ExportToOnnx(path, 4));

        Assert.IsFalse(File.Exists(path));
    }

    [TestMethod]
    [DataRow(new long[0])]
    [DataRow(new long[] { 3, 0, 8 })]
    public void SampleShapeMustListPositiveSizes(long[] sampleShape)
    {
        using var model = nn.Sequential(nn.ReLU());

        var error = Assert.ThrowsExactly<ArgumentException>(() => model.ExportToOnnx(new MemoryStream(), sampleShape));

        Assert.AreEqual("sampleShape", error.ParamName);
    }

    [TestMethod]
    public void ReadOnlyStreamIsRejected()
    {
        using var model = nn.Sequential(nn.ReLU());

        var error = Assert.ThrowsExactly<ArgumentException>(() => model.ExportToOnnx(new MemoryStream([], writable: false), 4));

        Assert.AreEqual("stream", error.ParamName);
    }
}
