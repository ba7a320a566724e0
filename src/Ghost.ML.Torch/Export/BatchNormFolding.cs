using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// Folds an evaluation-mode BatchNorm into the convolution or linear layer before it:
/// <c>w' = w·γ/√(var+ε)</c> per output channel and <c>b' = (b − mean)·γ/√(var+ε) + β</c>.
/// </summary>
internal static class BatchNormFolding
{
    /// <summary>The folded weight and bias, in float64 (the caller owns them).</summary>
    /// <param name="weight">The layer's weight, output channels first: [C_out, …].</param>
    /// <param name="bias">The layer's bias [C_out], or null for none.</param>
    /// <param name="norm">The BatchNorm that follows.</param>
    public static (Tensor Weight, Tensor Bias) Fold(Tensor weight, Tensor? bias, EvaluationBatchNorm norm)
    {
        using var scope = NewDisposeScope();
        var (scale, shift) = ScaleAndShift(norm);
        var foldedWeight = weight.detach().cpu().to_type(ScalarType.Float64)
            * scale.reshape([-1, .. Enumerable.Repeat(1L, (int)weight.ndim - 1)]);
        var foldedBias = bias is null ? shift : bias.detach().cpu().to_type(ScalarType.Float64) * scale + shift;
        return (foldedWeight.MoveToOuterDisposeScope(), foldedBias.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The per-channel affine map BatchNorm applies in evaluation, <c>y = x·scale + shift</c> with
    /// <c>scale = γ/√(var+ε)</c> and <c>shift = β − mean·scale</c>, in float64 on the CPU.
    /// </summary>
    private static (Tensor Scale, Tensor Shift) ScaleAndShift(EvaluationBatchNorm norm)
    {
        var mean = norm.Mean.detach().cpu().to_type(ScalarType.Float64);
        var variance = norm.Variance.detach().cpu().to_type(ScalarType.Float64);
        var gamma = norm.Weight?.detach().cpu().to_type(ScalarType.Float64) ?? ones_like(mean);
        var beta = norm.Bias?.detach().cpu().to_type(ScalarType.Float64) ?? zeros_like(mean);
        var scale = gamma / (variance + norm.Eps).sqrt();
        return (scale, beta - mean * scale);
    }
}
