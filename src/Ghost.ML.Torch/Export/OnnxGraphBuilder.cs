using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// Builds an ONNX graph from TorchSharp modules: walks containers and composites, emits leaf layers through
/// <see cref="OnnxLayers"/>, and keeps the module path (<c>layer1.0.conv2</c>) for value names and error messages.
/// </summary>
/// <remarks>Every value is float32; the builder tracks each value's rank, which Flatten and Linear need.</remarks>
internal sealed class OnnxGraphBuilder
{
    private const string RootDescription = "the model itself";

    private readonly GraphProto _graph = new();
    private readonly Dictionary<string, int> _ranks = [];
    private readonly List<string> _path = [];

    /// <summary>The dotted path of the module being exported, as in <c>named_modules()</c>; empty at the root.</summary>
    public string Path => string.Join('.', _path);

    /// <summary>Declares the graph input <c>[N, ..sampleShape]</c> with a symbolic batch dimension.</summary>
    /// <returns>The input's value name.</returns>
    public string AddInput(string name, IReadOnlyList<long> sampleShape)
    {
        _graph.Input.Add(TensorValueInfo(name, sampleShape));
        _ranks.Add(name, sampleShape.Count + 1);
        return name;
    }

    /// <summary>The rank of a value of this graph.</summary>
    public int RankOf(string value) => _ranks[value];

    /// <summary>Adds a node whose output has the rank of its first input (an element-wise operation).</summary>
    /// <returns>The output's value name.</returns>
    public string AddNode(string opType, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
        AddNode(opType, inputs, RankOf(inputs[0]), attributes);

    /// <summary>Adds a node with one output of rank <paramref name="outputRank"/>.</summary>
    /// <returns>The output's value name, derived from the current path and the operator.</returns>
    public string AddNode(string opType, IReadOnlyList<string> inputs, int outputRank, params AttributeProto[] attributes)
    {
        var output = UniqueName(_path.Count == 0 ? opType : $"{Path}/{opType}");
        var node = new NodeProto { Name = output, OpType = opType };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        _ranks.Add(output, outputRank);
        return output;
    }

    /// <summary>Adds a float32 initializer named <c>{path}.{suffix}</c> holding <paramref name="values"/>.</summary>
    /// <returns>The initializer's value name.</returns>
    public string AddInitializer(string suffix, Tensor values)
    {
        using var scope = NewDisposeScope();
        var data = values.detach().cpu().to_type(ScalarType.Float32).contiguous();
        return AddInitializer(suffix, ByteString.CopyFrom(data.bytes), values.shape);
    }

    /// <summary>Adds a float32 initializer named <c>{path}.{suffix}</c> of the given shape.</summary>
    /// <returns>The initializer's value name.</returns>
    public string AddInitializer(string suffix, float[] values, params long[] shape) =>
        AddInitializer(suffix, ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())), shape);

    /// <remarks>ONNX's raw data is little-endian, as the memory of every platform TorchSharp runs on.</remarks>
    private string AddInitializer(string suffix, ByteString rawData, long[] shape)
    {
        var name = UniqueName(_path.Count == 0 ? suffix : $"{Path}.{suffix}");
        var initializer = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = rawData };
        initializer.Dims.AddRange(shape);
        _graph.Initializer.Add(initializer);
        _ranks.Add(name, shape.Length);
        return name;
    }

    /// <summary>Exports the child <paramref name="module"/> registered as <paramref name="name"/>.</summary>
    /// <returns>The name of the value the module produces.</returns>
    /// <exception cref="NotSupportedException">The module or one inside it has no ONNX counterpart here.</exception>
    public string Module(string name, nn.Module module, string input) => InPath(name, () => module switch
    {
        IOnnxExportable composite => composite.AddToOnnxGraph(this, input),
        Sequential sequential => Chain(input, sequential.named_children().ToList()),
        _ when TorchVisionResNetExport.Recognizes(module) => TorchVisionResNetExport.Add(this, module, input),
        _ => OnnxLayers.Add(this, module, input),
    });

    /// <summary>
    /// Exports children applied one after another; a BatchNorm right after a convolution or linear layer is folded
    /// into that layer's weights.
    /// </summary>
    /// <returns>The name of the last step's output.</returns>
    public string Chain(string input, IReadOnlyList<(string Name, nn.Module Module)> steps)
    {
        var value = input;
        for (var i = 0; i < steps.Count; i++)
        {
            var (name, module) = steps[i];
            if (OnnxLayers.CanFold(module) && i + 1 < steps.Count && steps[i + 1].Module is BatchNorm norm)
            {
                var normName = steps[++i].Name;
                value = OnnxLayers.AddFolded(this, name, module, normName, norm, value);
            }
            else
            {
                value = Module(name, module, value);
            }
        }

        return value;
    }

    /// <summary>Exports children given by name, in the order given, as a chain.</summary>
    /// <exception cref="NotSupportedException"><paramref name="parent"/> has no child of one of the names.</exception>
    public string Chain(string input, nn.Module parent, params string[] childNames)
    {
        var children = parent.named_children().ToDictionary(child => child.name, child => child.module);
        var steps = childNames.Select(name => children.TryGetValue(name, out var child)
            ? (name, child)
            : throw NotSupported(parent, $"it has no submodule '{name}', which its kind of network has")).ToList();
        return Chain(input, steps);
    }

    /// <summary>
    /// A residual block: <c>relu(branch(input) + shortcut(input))</c>, the shortcut being the registered child
    /// <c>downsample</c> or the identity where <paramref name="downsample"/> is null.
    /// </summary>
    public string Residual(string input, Func<string, string> branch, nn.Module? downsample)
    {
        var residual = branch(input);
        var shortcut = downsample is null ? input : Module("downsample", downsample, input);
        return Relu(AddNode("Add", [residual, shortcut]));
    }

    /// <summary>Adds a ReLU.</summary>
    public string Relu(string input) => AddNode("Relu", [input]);

    /// <summary>Runs <paramref name="action"/> with <paramref name="name"/> appended to the current path.</summary>
    public void InPath(string name, Action action) => InPath(name, () =>
    {
        action();
        return true;
    });

    /// <summary>Runs <paramref name="action"/> with <paramref name="name"/> appended to the current path.</summary>
    public T InPath<T>(string name, Func<T> action)
    {
        if (name.Length == 0)
        {
            return action();
        }

        _path.Add(name);
        try
        {
            return action();
        }
        finally
        {
            _path.RemoveAt(_path.Count - 1);
        }
    }

    /// <summary>The exception for a module at the current path that cannot be exported, naming path and type.</summary>
    public NotSupportedException NotSupported(nn.Module module, string reason) =>
        new($"Cannot export {(_path.Count == 0 ? RootDescription : $"'{Path}'")} ({module.GetType().FullName}) to ONNX: {reason}.");

    /// <summary>The finished graph, its value <paramref name="result"/> exposed as the output <paramref name="outputName"/>.</summary>
    /// <param name="name">The graph's name.</param>
    /// <param name="result">The value the graph computes.</param>
    /// <param name="outputName">The graph output's name.</param>
    /// <param name="resultSampleShape">The shape of one sample of the result: the output is <c>[N, ..resultSampleShape]</c>.</param>
    public GraphProto Build(string name, string result, string outputName, IReadOnlyList<long> resultSampleShape)
    {
        if (!_graph.Node.Any(node => node.Output.Contains(result)))
        {
            // The network computes nothing (e.g. a lone Dropout): the output still has to be a node's.
            result = AddNode("Identity", [result]);
        }

        foreach (var node in _graph.Node)
        {
            Rename(node.Output, result, outputName);
            Rename(node.Input, result, outputName);
        }

        _graph.Name = name;
        _graph.Output.Add(TensorValueInfo(outputName, resultSampleShape));
        return _graph;
    }

    /// <summary>An <c>int</c> attribute.</summary>
    public static AttributeProto Attribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>An <c>ints</c> attribute.</summary>
    public static AttributeProto Attribute(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A <c>float</c> attribute.</summary>
    public static AttributeProto Attribute(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private string UniqueName(string name)
    {
        var unique = name;
        for (var i = 1; _ranks.ContainsKey(unique); i++)
        {
            unique = $"{name}_{i}";
        }

        return unique;
    }

    private static void Rename(RepeatedField<string> names, string from, string to)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == from)
            {
                names[i] = to;
            }
        }
    }

    /// <summary>A float32 tensor <c>[N, ..sampleShape]</c> with the symbolic batch dimension N.</summary>
    private static ValueInfoProto TensorValueInfo(string name, IEnumerable<long> sampleShape)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        shape.Dim.AddRange(sampleShape.Select(size => new TensorShapeProto.Types.Dimension { DimValue = size }));
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape },
            },
        };
    }
}
