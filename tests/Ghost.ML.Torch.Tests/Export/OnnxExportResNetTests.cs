using Ghost.ML.Torch.Models;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests.Export;

[TestClass]
public sealed class OnnxExportResNetTests
{
    [TestMethod]
    [DataRow(ResNetArchitecture.ResNet20, 1, 16, true)]
    [DataRow(ResNetArchitecture.ResNet20, 3, 16, false)]
    [DataRow(ResNetArchitecture.ResNet32, 3, 12, true)]
    [DataRow(ResNetArchitecture.ResNet18, 3, 24, true)]
    [DataRow(ResNetArchitecture.ResNet34, 1, 16, true)]
    [DataRow(ResNetArchitecture.ResNet50, 3, 16, true)]
    public void BuiltInResNetGivesTorchSharpsProbabilitiesAtBatchSizes1And37(ResNetArchitecture architecture, int channels, int size, bool ghost)
    {
        manual_seed(11);
        using var model = ResNetFactory.Create(architecture, numClasses: 7, inputChannels: channels);
        if (ghost)
        {
            model.ApplyGhostBatchNorm(ghostBatchSize: 4);
        }

        OnnxRoundTrip.Calibrate(model, channels, size, size);

        var onnx = OnnxRoundTrip.Export(model, channels, size, size);

        using var session = new InferenceSession(onnx);
        OnnxRoundTrip.AssertAgrees(model, session, randn(1, channels, size, size), $"{architecture}, batch 1");
        OnnxRoundTrip.AssertAgrees(model, session, randn(37, channels, size, size), $"{architecture}, batch 37");
    }

    [TestMethod]
    public void TorchVisionResNet18AfterSurgeryGivesTorchSharpsProbabilities()
    {
        manual_seed(12);
        using var model = torchvision.models.resnet18(num_classes: 5);
        Assert.AreEqual(20, model.ApplyGhostBatchNorm(ghostBatchSize: 4));
        OnnxRoundTrip.Calibrate(model, 3, 32, 32);

        var onnx = OnnxRoundTrip.Export(model, 3, 32, 32);

        using var session = new InferenceSession(onnx);
        OnnxRoundTrip.AssertAgrees(model, session, randn(1, 3, 32, 32), "TorchVision ResNet-18, batch 1");
        OnnxRoundTrip.AssertAgrees(model, session, randn(37, 3, 32, 32), "TorchVision ResNet-18, batch 37");
        Assert.IsFalse(ModelProto.Parser.ParseFrom(onnx).Graph.Node.Any(node => node.OpType == "BatchNormalization"), "every BatchNorm follows a convolution and is folded");
    }

    [TestMethod]
    public void ResNet20GraphIsItsConvolutionsWithEveryBatchNormFolded()
    {
        manual_seed(13);
        using var model = ResNetFactory.Create(ResNetArchitecture.ResNet20, numClasses: 10, inputChannels: 1);

        var graph = ModelProto.Parser.ParseFrom(OnnxRoundTrip.Export(model, 1, 28, 28)).Graph;

        var counts = graph.Node.GroupBy(node => node.OpType).ToDictionary(group => group.Key, group => group.Count());
        Assert.AreEqual(21, counts["Conv"], "stem, 18 block convolutions and 2 projections");
        Assert.AreEqual(9, counts["Add"]);
        Assert.AreEqual(1, counts["Gemm"]);
        Assert.IsFalse(counts.ContainsKey("BatchNormalization"));
        Assert.IsTrue(graph.Node.All(node => node.OpType != "Conv" || node.Input.Count == 3), "folding gives every convolution a bias");
        Assert.IsTrue(graph.Initializer.Any(initializer => initializer.Name == "layer2.0.downsample.0.weight"), "initializers are named after the module path");
    }
}
