using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>What a BatchNorm (plain or ghost) computes with in evaluation mode: its running statistics and affine map.</summary>
/// <param name="Mean">The running mean [C].</param>
/// <param name="Variance">The running variance [C].</param>
/// <param name="Weight">The scale γ [C], or null for none (1).</param>
/// <param name="Bias">The shift β [C], or null for none (0).</param>
/// <param name="Eps">Added to the variance.</param>
internal readonly record struct EvaluationBatchNorm(Tensor Mean, Tensor Variance, Tensor? Weight, Tensor? Bias, double Eps)
{
    /// <summary>The evaluation computation of <paramref name="norm"/>, whose path is the graph's current one.</summary>
    /// <exception cref="NotSupportedException">The layer keeps no running statistics.</exception>
    public static EvaluationBatchNorm Of(OnnxGraphBuilder graph, BatchNorm norm) =>
        norm.running_mean is { } mean && norm.running_var is { } variance
            ? new(mean, variance, norm.weight, norm.bias, norm.eps)
            : throw graph.NotSupported(norm, "a BatchNorm without running statistics normalizes with the batch's own even in evaluation, which an exported model cannot reproduce");
}
