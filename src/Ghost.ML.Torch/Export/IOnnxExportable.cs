namespace Ghost.ML.Torch;

/// <summary>
/// A composite module of this library that describes its own forward computation as an ONNX graph, because the
/// exporter cannot read a <c>forward</c> method.
/// </summary>
internal interface IOnnxExportable
{
    /// <summary>Adds the module's computation on <paramref name="input"/> to <paramref name="graph"/>.</summary>
    /// <param name="graph">The graph being built; its current path is this module's.</param>
    /// <param name="input">The name of the value the module reads.</param>
    /// <returns>The name of the value the module produces.</returns>
    string AddToOnnxGraph(OnnxGraphBuilder graph, string input);
}
