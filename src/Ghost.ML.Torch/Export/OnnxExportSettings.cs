namespace Ghost.ML.Torch;

/// <summary>
/// What a caller adds around the network's own graph: preparation of the input, a head after the logits, the output's
/// name and the model's metadata. Ghost.ML's SaveAsOnnx uses it to put pixel scaling and probabilities into the file.
/// </summary>
internal sealed class OnnxExportSettings
{
    /// <summary>The settings of <see cref="OnnxExport.ExportToOnnx(TorchSharp.torch.nn.Module{TorchSharp.torch.Tensor, TorchSharp.torch.Tensor}, string, long[])"/>: the network alone.</summary>
    public static OnnxExportSettings Default { get; } = new();

    /// <summary>
    /// Nodes between the graph input and the network, as a function from the input's value name to the prepared
    /// value's name (e.g. Div and Sub with initializers); element-wise, so the input's shape is kept.
    /// </summary>
    public Func<OnnxGraphBuilder, string, string>? PrepareInput { get; init; }

    /// <summary>
    /// Nodes after the network's output, as a function from the logits' value name to the final value's name
    /// (e.g. Softmax); they must keep the logits' shape, which the graph output declares.
    /// </summary>
    public Func<OnnxGraphBuilder, string, string>? AppendOutput { get; init; }

    /// <summary>The name of the graph output.</summary>
    public string OutputName { get; init; } = OnnxExport.OutputName;

    /// <summary>Key-value pairs written to the model's <c>metadata_props</c> (e.g. class names).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}
