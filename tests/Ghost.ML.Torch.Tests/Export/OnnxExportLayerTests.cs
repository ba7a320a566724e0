using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests.Export;

[TestClass]
public sealed class OnnxExportLayerTests
{
    [TestMethod]
    public void BatchNormWithoutAPrecedingLayerIsWrittenAsBatchNormalization()
    {
        manual_seed(21);
        using var model = nn.Sequential(
            ("input_norm", nn.BatchNorm2d(2)),
            ("conv", nn.Conv2d(2, 4, kernel_size: 3, stride: 2, padding: 1, dilation: 1)),
            ("conv_norm", nn.BatchNorm2d(4)),
            ("relu", nn.ReLU(inplace: true)),
            ("pool", nn.MaxPool2d(kernel_size: 2, ceil_mode: true)),
            ("average", nn.AvgPool2d(kernel_size: 2, stride: 1, padding: 1)),
            ("flatten", nn.Flatten()),
            ("flat_relu", nn.ReLU()),
            ("feature_norm", nn.BatchNorm1d(100)),
            ("dropout", nn.Dropout(0.5)),
            ("fc", nn.Linear(100, 6)),
            ("fc_norm", nn.BatchNorm1d(6)));
        model.ApplyGhostBatchNorm(ghostBatchSize: 3);
        // 13 × 13 → 7 × 7 after the convolution, so the ceil-mode pooling has a partial window (4 × 4, not 3 × 3).
        OnnxRoundTrip.Calibrate(model, 2, 13, 13);

        var onnx = OnnxRoundTrip.Export(model, 2, 13, 13);

        var operators = ModelProto.Parser.ParseFrom(onnx).Graph.Node.Select(node => node.OpType).ToList();
        CollectionAssert.AreEqual(
            new[] { "BatchNormalization", "Conv", "Relu", "MaxPool", "AveragePool", "Flatten", "Relu", "BatchNormalization", "Gemm" },
            operators);
        using var session = new InferenceSession(onnx);
        OnnxRoundTrip.AssertAgrees(model, session, randn(5, 2, 13, 13), "mixed layers");
    }

    [TestMethod]
    public void Conv1dWithGroupsDilationAndBiasFoldsItsBatchNorm1d()
    {
        manual_seed(22);
        using var model = nn.Sequential(
            nn.Conv1d(4, 6, kernel_size: 3, stride: 2, padding: 2, dilation: 2, groups: 2),
            nn.BatchNorm1d(6),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(6 * 5, 3, hasBias: false));
        OnnxRoundTrip.Calibrate(model, 4, 10);

        var onnx = OnnxRoundTrip.Export(model, 4, 10);

        var graph = ModelProto.Parser.ParseFrom(onnx).Graph;
        CollectionAssert.AreEqual(new[] { "Conv", "Relu", "Flatten", "Gemm" }, graph.Node.Select(node => node.OpType).ToList());
        Assert.AreEqual(2, graph.Node[0].Attribute.Single(attribute => attribute.Name == "group").I);
        using var session = new InferenceSession(onnx);
        OnnxRoundTrip.AssertAgrees(model, session, randn(3, 4, 10), "Conv1d");
    }

    [TestMethod]
    public void ModelWithoutOperatorsStillHasItsOutput()
    {
        using var model = nn.Sequential(nn.Dropout(0.2), nn.Identity());

        using var session = new InferenceSession(OnnxRoundTrip.Export(model, 4));

        var input = randn(2, 4);
        TensorAssert.AreClose(input, OnnxRoundTrip.Run(session, input), 0, "identity");
    }
}
