using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// Writes a TorchSharp classifier as an ONNX model, to run with ONNX Runtime without libtorch. Each BatchNorm (plain
/// or ghost: at evaluation they are the same) is folded into the convolution or linear layer before it.
/// </summary>
/// <remarks>
/// <para>
/// The model is written as it computes in evaluation mode: one float32 input <c>input</c> of shape
/// <c>[N, ..sampleShape]</c> with a symbolic batch size <c>N</c>, and one output <c>output</c>, the module's own output
/// (logits), with nothing added. The file has IR version 8 and opset 17, which current ONNX Runtime and ONNX's
/// checker accept.
/// </para>
/// <para>
/// Supported: Conv1d and Conv2d (explicit zero padding, any stride, dilation, groups, with or without bias),
/// BatchNorm1d/2d and the ghost layers, ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten(1, -1), Linear,
/// Dropout and Identity (nothing at evaluation), Sequential, and the ResNets of <see cref="Models.ResNetFactory"/>
/// and TorchVision (ResNet, BasicBlock, Bottleneck). A BatchNorm that no convolution or linear layer precedes is
/// written as <c>BatchNormalization</c>. Anything else fails with a <see cref="NotSupportedException"/> that names the
/// module's path and type: a module's <c>forward</c> cannot be read, so an unknown one is never guessed at.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// using var model = ResNetFactory.Create(ResNetArchitecture.ResNet20, numClasses: 10, inputChannels: 1);
/// // ... train ...
/// model.ExportToOnnx("model.onnx", 1, 28, 28);   // input [N, 1, 28, 28], output [N, 10]
/// </code>
/// </example>
public static class OnnxExport
{
    /// <summary>The name of the exported model's input.</summary>
    public const string InputName = "input";

    /// <summary>The name of the exported model's output.</summary>
    public const string OutputName = "output";

    /// <summary>The ONNX IR version written (ONNX 1.10 and later read it).</summary>
    internal const long IrVersion = 8;

    /// <summary>The version of the default operator set written.</summary>
    internal const long OpsetVersion = 17;

    /// <summary>Writes <paramref name="model"/> in evaluation mode as an ONNX model to the file <paramref name="path"/>.</summary>
    /// <param name="model">The model; its train/eval mode is the same afterwards.</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="sampleShape">The shape of one input sample, without the batch dimension, e.g. 3, 32, 32.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or <paramref name="sampleShape"/> is empty or has a size below 1.</exception>
    /// <exception cref="NotSupportedException">
    /// The model contains a module the exporter does not support; the message names its path and type. Nothing is written then.
    /// </exception>
    public static void ExportToOnnx(this nn.Module<Tensor, Tensor> model, string path, params long[] sampleShape)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var onnx = CreateModel(model, sampleShape, OnnxExportSettings.Default);
        using var file = File.Create(path);
        onnx.WriteTo(file);
    }

    /// <summary>Writes <paramref name="model"/> in evaluation mode as an ONNX model to <paramref name="stream"/>.</summary>
    /// <param name="model">The model; its train/eval mode is the same afterwards.</param>
    /// <param name="stream">A writable stream; it is left open.</param>
    /// <param name="sampleShape">The shape of one input sample, without the batch dimension, e.g. 3, 32, 32.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not writable, or <paramref name="sampleShape"/> is empty or has a size below 1.</exception>
    /// <exception cref="NotSupportedException">
    /// The model contains a module the exporter does not support; the message names its path and type. Nothing is written then.
    /// </exception>
    public static void ExportToOnnx(this nn.Module<Tensor, Tensor> model, Stream stream, params long[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream is not writable.", nameof(stream));
        }

        CreateModel(model, sampleShape, OnnxExportSettings.Default).WriteTo(stream);
    }

    /// <summary>
    /// The ONNX model of <paramref name="model"/> in evaluation mode, with what <paramref name="settings"/> adds
    /// around it; the model's train/eval mode is the same afterwards.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="sampleShape"/> is empty or has a size below 1.</exception>
    /// <exception cref="NotSupportedException">The model contains a module the exporter does not support.</exception>
    internal static ModelProto CreateModel(nn.Module<Tensor, Tensor> model, long[] sampleShape, OnnxExportSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampleShape);
        ArgumentNullException.ThrowIfNull(settings);
        if (sampleShape.Length == 0 || sampleShape.Any(size => size < 1))
        {
            throw new ArgumentException(
                $"The sample shape must list one positive size per dimension after the batch, e.g. 3, 32, 32; got [{string.Join(", ", sampleShape)}].",
                nameof(sampleShape));
        }

        // train(bool) is recursive, so restoring parents before children (modules() is pre-order) restores each.
        List<(nn.Module Module, bool Training)> modes = [(model, model.training), .. model.modules().Select(module => (module, module.training))];
        model.eval();
        try
        {
            var outputSampleShape = OutputSampleShape(model, sampleShape);
            var graph = new OnnxGraphBuilder();
            var input = graph.AddInput(InputName, sampleShape);
            var prepared = settings.PrepareInput?.Invoke(graph, input) ?? input;
            var logits = graph.Module("", model, prepared);
            var result = settings.AppendOutput?.Invoke(graph, logits) ?? logits;

            var onnx = new ModelProto
            {
                IrVersion = IrVersion,
                ProducerName = "Ghost.ML.Torch",
                ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
                Graph = graph.Build(model.GetName(), result, settings.OutputName, outputSampleShape),
            };
            onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
            onnx.MetadataProps.AddRange(settings.Metadata.Select(entry => new StringStringEntryProto { Key = entry.Key, Value = entry.Value }));
            return onnx;
        }
        finally
        {
            foreach (var (module, training) in modes)
            {
                module.train(training);
            }
        }
    }

    /// <summary>
    /// The shape of one sample of the model's output, from one evaluation on zeros; this also checks that the model
    /// accepts <paramref name="sampleShape"/>.
    /// </summary>
    private static long[] OutputSampleShape(nn.Module<Tensor, Tensor> model, long[] sampleShape)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var parameter = model.parameters().FirstOrDefault();
        var probe = zeros([1, .. sampleShape], dtype: parameter?.dtype ?? ScalarType.Float32, device: parameter?.device);
        return model.call(probe).shape[1..];
    }
}
