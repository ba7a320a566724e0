using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests.Export;

/// <summary>Exports models, runs them in ONNX Runtime and compares with TorchSharp's evaluation output.</summary>
internal static class OnnxRoundTrip
{
    /// <summary>The exported model's bytes, written through the Stream overload.</summary>
    public static byte[] Export(nn.Module<Tensor, Tensor> model, params long[] sampleShape)
    {
        using var stream = new MemoryStream();
        model.ExportToOnnx(stream, sampleShape);
        return stream.ToArray();
    }

    /// <summary>The model's single output for <paramref name="input"/>, as computed by ONNX Runtime.</summary>
    public static Tensor Run(InferenceSession session, Tensor input, string inputName = OnnxExport.InputName)
    {
        var data = input.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, input.shape);
        using var options = new RunOptions();
        using var results = session.Run(options, [inputName], [value], session.OutputNames);
        var output = results.Single();
        return tensor(output.GetTensorDataAsSpan<float>().ToArray(), output.GetTensorTypeAndShape().Shape);
    }

    /// <summary>
    /// Asserts that ONNX Runtime and TorchSharp (in evaluation mode) give the same class probabilities, to 1e-4, and
    /// the same predicted class for every sample of <paramref name="input"/>.
    /// </summary>
    public static void AssertAgrees(nn.Module<Tensor, Tensor> model, InferenceSession session, Tensor input, string what)
    {
        using var scope = NewDisposeScope();
        var wasTraining = model.training;
        model.eval();
        Tensor expected;
        using (no_grad())
        {
            expected = model.call(input);
        }

        model.train(wasTraining);
        var actual = Run(session, input);
        CollectionAssert.AreEqual(expected.shape, actual.shape, $"{what}: output shape");
        TensorAssert.AreClose(expected.softmax(1), actual.softmax(1), 1e-4, $"{what}: probabilities");
        CollectionAssert.AreEqual(expected.argmax(1).data<long>().ToArray(), actual.argmax(1).data<long>().ToArray(), $"{what}: predicted classes");
    }

    /// <summary>
    /// Gives every BatchNorm a random scale and shift and, as running statistics, those of one training batch of
    /// random samples, so that folding changes the weights while the network stays as well scaled as a trained one.
    /// </summary>
    public static void Calibrate(nn.Module<Tensor, Tensor> model, params long[] sampleShape)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var norms = model.modules().OfType<BatchNorm>().ToList();
        foreach (var norm in norms)
        {
            norm.weight!.uniform_(0.5, 1.5);
            norm.bias!.normal_(0, 0.3);
            // A cumulative average over one batch: that batch's statistics.
            norm.momentum = null;
            norm.reset_running_stats();
        }

        model.train();
        model.call(randn([16, .. sampleShape]));
        model.eval();
    }
}
