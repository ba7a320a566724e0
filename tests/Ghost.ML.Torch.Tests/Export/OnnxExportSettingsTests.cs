using Ghost.ML.Torch.Models;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests.Export;

/// <summary>The hook Ghost.ML's SaveAsOnnx builds on: preparation before, probabilities after, metadata.</summary>
[TestClass]
public sealed class OnnxExportSettingsTests
{
    [TestMethod]
    public void PreparationHeadOutputNameAndMetadataWrapTheNetwork()
    {
        manual_seed(41);
        using var model = ResNetFactory.Create(ResNetArchitecture.ResNet20, numClasses: 3, inputChannels: 1);
        model.ApplyGhostBatchNorm(ghostBatchSize: 4);
        OnnxRoundTrip.Calibrate(model, 1, 8, 8);
        var settings = new OnnxExportSettings
        {
            PrepareInput = (graph, input) =>
            {
                var scaled = graph.AddNode("Div", [input, graph.AddInitializer("pixel_scale", [255f])]);
                var centred = graph.AddNode("Sub", [scaled, graph.AddInitializer("mean", [0.5f], 1, 1, 1)]);
                return graph.AddNode("Div", [centred, graph.AddInitializer("std", [0.25f], 1, 1, 1)]);
            },
            AppendOutput = (graph, logits) => graph.AddNode("Softmax", [logits], OnnxGraphBuilder.Attribute("axis", 1L)),
            OutputName = "Score",
            Metadata = new Dictionary<string, string> { ["class_names"] = "cat,dog,owl" },
        };

        var onnx = OnnxExport.CreateModel(model, [1, 8, 8], settings);

        using var session = new InferenceSession(onnx.ToByteArray());
        CollectionAssert.AreEqual(new[] { "Score" }, session.OutputNames.ToArray());
        Assert.AreEqual("cat,dog,owl", session.ModelMetadata.CustomMetadataMap["class_names"]);
        var pixels = randint(0, 256, [6, 1, 8, 8]).to_type(ScalarType.Float32);
        Tensor expected;
        using (no_grad())
        {
            expected = model.call((pixels / 255 - 0.5) / 0.25).softmax(1);
        }

        TensorAssert.AreClose(expected, OnnxRoundTrip.Run(session, pixels), 1e-4, "probabilities from pixels");
    }
}
