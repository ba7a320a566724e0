using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static Ghost.ML.Torch.OnnxGraphBuilder;

namespace Ghost.ML.Torch;

/// <summary>The ONNX operators of the leaf modules the exporter supports, in evaluation mode.</summary>
internal static class OnnxLayers
{
    private const string Supported =
        "the exporter supports Conv1d, Conv2d, BatchNorm1d/2d (plain or ghost), ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten, Linear, Dropout, Identity, Sequential and the ResNets of Ghost.ML.Torch and TorchVision";

    /// <summary>Whether a BatchNorm directly after <paramref name="module"/> can be folded into it.</summary>
    public static bool CanFold(nn.Module module) => module is Conv1d or Conv2d or Linear;

    /// <summary>Adds the operator of the leaf <paramref name="module"/>, whose path is the graph's current one.</summary>
    /// <exception cref="NotSupportedException">The module has no ONNX counterpart here.</exception>
    public static string Add(OnnxGraphBuilder graph, nn.Module module, string input) => module switch
    {
        Conv1d or Conv2d => AddConvolution(graph, (Convolution)module, input, null),
        Linear linear => AddLinear(graph, linear, input, null),
        BatchNorm norm => AddBatchNormalization(graph, norm, input),
        ReLU => graph.Relu(input),
        MaxPool2d pool => AddMaxPool(graph, pool, input),
        AvgPool2d pool => AddAveragePool(graph, pool, input),
        AdaptiveAvgPool2d pool => AddGlobalAveragePool(graph, pool, input),
        Flatten flatten => AddFlatten(graph, flatten, input),
        // Identities in evaluation mode: no node at all.
        Dropout or Identity => input,
        _ => throw graph.NotSupported(module, Supported),
    };

    /// <summary>
    /// Adds the convolution or linear layer <paramref name="layerName"/> with the BatchNorm <paramref name="normName"/>
    /// that follows it folded into its weight and bias.
    /// </summary>
    public static string AddFolded(OnnxGraphBuilder graph, string layerName, nn.Module layer, string normName, BatchNorm norm, string input)
    {
        var evaluation = graph.InPath(normName, () => EvaluationBatchNorm.Of(graph, norm));
        return graph.InPath(layerName, () => layer switch
        {
            Convolution convolution => AddConvolution(graph, convolution, input, evaluation),
            _ => AddLinear(graph, (Linear)layer, input, evaluation),
        });
    }

    private static string AddConvolution(OnnxGraphBuilder graph, Convolution convolution, string input, EvaluationBatchNorm? foldedNorm)
    {
        if (convolution.padding_type is not null || convolution.padding_mode != PaddingModes.Zeros)
        {
            throw graph.NotSupported(convolution, "only explicit zero padding is supported, not 'same'/'valid' or reflect, replicate and circular padding");
        }

        var dimensions = convolution.kernel_size.Length;
        var padding = PerDimension(convolution.padding, dimensions, 0);
        var (weight, bias) = WeightAndBias(graph, convolution.weight, convolution.bias, foldedNorm);
        return graph.AddNode("Conv", bias is null ? [input, weight] : [input, weight, bias], graph.RankOf(input),
            Attribute("kernel_shape", convolution.kernel_size),
            Attribute("strides", PerDimension(convolution.stride, dimensions, 1)),
            Attribute("pads", [.. padding, .. padding]),
            Attribute("dilations", PerDimension(convolution.dilation, dimensions, 1)),
            Attribute("group", convolution.groups));
    }

    private static string AddLinear(OnnxGraphBuilder graph, Linear linear, string input, EvaluationBatchNorm? foldedNorm)
    {
        if (graph.RankOf(input) != 2)
        {
            throw graph.NotSupported(linear, $"a Linear layer is exported for input [N, features] only, not of rank {graph.RankOf(input)}");
        }

        var (weight, bias) = WeightAndBias(graph, linear.weight, linear.bias, foldedNorm);
        return graph.AddNode("Gemm", bias is null ? [input, weight] : [input, weight, bias], 2, Attribute("transB", 1L));
    }

    private static (string Weight, string? Bias) WeightAndBias(OnnxGraphBuilder graph, Tensor weight, Tensor? bias, EvaluationBatchNorm? foldedNorm)
    {
        if (foldedNorm is null)
        {
            return (graph.AddInitializer("weight", weight), bias is null ? null : graph.AddInitializer("bias", bias));
        }

        var (foldedWeight, foldedBias) = BatchNormFolding.Fold(weight, bias, foldedNorm.Value);
        using (foldedWeight)
        using (foldedBias)
        {
            return (graph.AddInitializer("weight", foldedWeight), graph.AddInitializer("bias", foldedBias));
        }
    }

    private static string AddBatchNormalization(OnnxGraphBuilder graph, BatchNorm norm, string input)
    {
        var evaluation = EvaluationBatchNorm.Of(graph, norm);
        using var scope = NewDisposeScope();
        var scale = graph.AddInitializer("weight", evaluation.Weight ?? ones_like(evaluation.Mean));
        var shift = graph.AddInitializer("bias", evaluation.Bias ?? zeros_like(evaluation.Mean));
        var mean = graph.AddInitializer("running_mean", evaluation.Mean);
        var variance = graph.AddInitializer("running_var", evaluation.Variance);
        return graph.AddNode("BatchNormalization", [input, scale, shift, mean, variance],
            Attribute("epsilon", (float)evaluation.Eps));
    }

    private static string AddMaxPool(OnnxGraphBuilder graph, MaxPool2d pool, string input)
    {
        var padding = PerDimension(pool.padding, 2, 0);
        return graph.AddNode("MaxPool", [input],
            Attribute("kernel_shape", PerDimension(pool.kernel_size, 2, 1)),
            Attribute("strides", PerDimension(pool.stride ?? pool.kernel_size, 2, 1)),
            Attribute("pads", [.. padding, .. padding]),
            Attribute("dilations", PerDimension(pool.dilation, 2, 1)),
            Attribute("ceil_mode", pool.ceil_mode ? 1L : 0L));
    }

    private static string AddAveragePool(OnnxGraphBuilder graph, AvgPool2d pool, string input)
    {
        if (pool.divisor_override is not null)
        {
            throw graph.NotSupported(pool, "ONNX's AveragePool has no divisor_override");
        }

        var padding = PerDimension(pool.padding, 2, 0);
        return graph.AddNode("AveragePool", [input],
            Attribute("kernel_shape", PerDimension(pool.kernel_size, 2, 1)),
            Attribute("strides", PerDimension(pool.stride ?? pool.kernel_size, 2, 1)),
            Attribute("pads", [.. padding, .. padding]),
            Attribute("ceil_mode", pool.ceil_mode ? 1L : 0L),
            Attribute("count_include_pad", pool.count_include_pad ? 1L : 0L));
    }

    private static string AddGlobalAveragePool(OnnxGraphBuilder graph, AdaptiveAvgPool2d pool, string input)
    {
        if (pool.output_size.Any(size => size != 1))
        {
            throw graph.NotSupported(pool, $"only output size 1 (global average pooling) is supported, not [{string.Join(", ", pool.output_size)}]");
        }

        return graph.AddNode("GlobalAveragePool", [input]);
    }

    private static string AddFlatten(OnnxGraphBuilder graph, Flatten flatten, string input)
    {
        var rank = graph.RankOf(input);
        if (flatten.start_dim != 1 || (flatten.end_dim != -1 && flatten.end_dim != rank - 1))
        {
            throw graph.NotSupported(flatten, $"only Flatten(1, -1) is supported, not Flatten({flatten.start_dim}, {flatten.end_dim})");
        }

        return graph.AddNode("Flatten", [input], 2, Attribute("axis", 1L));
    }

    /// <summary>A per-dimension setting: one value repeated, or one per dimension; absent means the default.</summary>
    private static long[] PerDimension(long[]? values, int dimensions, long defaultValue) => values switch
    {
        null or [] => [.. Enumerable.Repeat(defaultValue, dimensions)],
        [var single] => [.. Enumerable.Repeat(single, dimensions)],
        _ => values,
    };
}
