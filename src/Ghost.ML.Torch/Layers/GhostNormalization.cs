using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// The training computation of a ghost layer, <c>y = (x − mean) · invstd · weight + bias</c> with per-(ghost batch,
/// channel) statistics computed from the input, as one autograd node with a hand-written backward: autograd through
/// the elementary operations would take several passes and allocate full-size temporaries. It saves only the input and
/// the small statistics. Float CPU tensors take <see cref="GhostCpuKernels"/> (one pass over memory each way); other
/// tensors take torch operations.
/// </summary>
/// <remarks>
/// Arguments of <c>apply</c>: rows <c>[N, C, S]</c>, weight <c>[C]</c> or null, bias <c>[C]</c> or null, the
/// <see cref="GhostBatchLayout"/>, eps, whether the saved tensors outlive the backward
/// (<see cref="GhostBatchNorm.KeepSavedTensorsAfterBackward"/>), and the <see cref="RunningStatisticsTerms"/> to
/// report, or null. The statistics are treated as functions of the input through the closed-form backward; no
/// gradient flows into them from elsewhere.
/// </remarks>
internal sealed class GhostNormalization : autograd.SingleTensorFunction<GhostNormalization>
{
    // The engine copies the gradients a backward returns only after it returns, so their wrappers are released on
    // this thread's next call instead of waiting for finalisation (which would keep full-size buffers alive).
    [ThreadStatic]
    private static List<Tensor>? _returnedGradients;

    private const string SavedTensorsReleased = "released";
    private const string KeepSavedTensors = "keep";

    /// <inheritdoc/>
    public override string Name => "GhostBatchNormBackward";

    /// <inheritdoc/>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ReleaseReturnedGradients();
        var (rows, weight, bias, layout, eps, keepSavedTensors, runningStatistics) = Unpack(vars);
        var runningWeights = runningStatistics is null
            ? ((double[], double[])?)null
            : (runningStatistics.MeanWeights, runningStatistics.VarianceWeights);
        Tensor output, mean, invstd;
        if (GhostCpuKernels.CanRun(rows))
        {
            (output, mean, invstd, var weightedMeans, var weightedVariances) =
                GhostCpuKernels.Forward(rows, weight, bias, layout, eps, runningWeights);
            runningStatistics?.Report(weightedMeans!, weightedVariances!);
        }
        else
        {
            (mean, var variance) = GhostMoments.Compute(rows, layout);
            invstd = (variance + eps).rsqrt();
            output = NormalizeWithTorch(rows, weight, bias, mean, invstd, layout);
            runningStatistics?.Report(
                tensor(runningStatistics.MeanWeights, rows.dtype, rows.device).matmul(mean),
                tensor(runningStatistics.VarianceWeights, rows.dtype, rows.device).matmul(variance));
        }

        ctx.save_for_backward([rows, weight!, mean, invstd]);
        ctx.save_data(KeepSavedTensors, keepSavedTensors);
        ctx.save_data("bias", bias is not null);
        ctx.save_data("layout", layout);
        return output;
    }

    /// <inheritdoc/>
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        ReleaseReturnedGradients();
        if (ctx.get_data(SavedTensorsReleased) is true)
        {
            throw new InvalidOperationException(
                "Trying to backward through a GhostBatchNorm layer a second time: the layer frees its saved tensors as its backward runs. Set GhostBatchNorm.KeepSavedTensorsAfterBackward to true to backpropagate through a graph more than once (retain_graph).");
        }

        List<Tensor> gradients;
        using (var scope = NewDisposeScope())
        {
            var saved = ctx.get_saved_variables();
            var (rows, weight, mean, invstd) = (saved[0], saved[1], saved[2], saved[3]);
            var hasBias = (bool)ctx.get_data("bias");
            var layout = (GhostBatchLayout)ctx.get_data("layout");
            var grad = grad_output.reshape(rows.shape);

            var (gradInput, gradWeight, gradBias) = GhostCpuKernels.CanRun(rows)
                ? GhostCpuKernels.Backward(grad, rows, mean, invstd, weight, layout)
                : BackwardWithTorch(grad, rows, weight, mean, invstd, layout);

            gradients =
            [
                gradInput,
                weight is null ? null! : gradWeight,
                hasBias ? gradBias : null!,
                null!, null!, null!, null!,
            ];
            foreach (var gradient in gradients)
            {
                gradient?.DetachFromDisposeScope();
            }
        }

        // TorchSharp keeps a custom node's saved tensors until the whole graph is freed, where PyTorch frees them as
        // the node's backward finishes: without this every ghost layer's input would stay alive through the backward.
        if (ctx.get_data(KeepSavedTensors) is not true)
        {
            ctx.Dispose();
            ctx.save_data(SavedTensorsReleased, true);
        }

        grad_output.Dispose();
        (_returnedGradients ??= []).AddRange(gradients.Where(gradient => gradient is not null));
        return gradients;
    }

    /// <summary>
    /// The running-statistics terms of one forward: given a weight for each ghost batch's mean and one for its biased
    /// variance, the forward reports Σⱼ wⱼ · meanⱼ and Σⱼ vⱼ · varianceⱼ per channel, computed where the moments are.
    /// </summary>
    /// <param name="meanWeights">wⱼ for every ghost batch j.</param>
    /// <param name="varianceWeights">vⱼ for every ghost batch j, applied to its biased variance.</param>
    public sealed class RunningStatisticsTerms(double[] meanWeights, double[] varianceWeights)
    {
        /// <summary>wⱼ for every ghost batch j.</summary>
        public double[] MeanWeights { get; } = meanWeights;

        /// <summary>vⱼ for every ghost batch j.</summary>
        public double[] VarianceWeights { get; } = varianceWeights;

        /// <summary>Σⱼ wⱼ · meanⱼ per channel, <c>[C]</c>, once the forward has run.</summary>
        public Tensor? WeightedMeans { get; private set; }

        /// <summary>Σⱼ vⱼ · varianceⱼ per channel, <c>[C]</c>, once the forward has run.</summary>
        public Tensor? WeightedVariances { get; private set; }

        internal void Report(Tensor weightedMeans, Tensor weightedVariances) =>
            (WeightedMeans, WeightedVariances) = (weightedMeans, weightedVariances);
    }

    /// <summary>(x − mean) · invstd · weight + bias per (ghost batch, channel), in torch operations.</summary>
    private static Tensor NormalizeWithTorch(Tensor rows, Tensor? weight, Tensor? bias, Tensor mean, Tensor invstd,
        GhostBatchLayout layout)
    {
        var scale = weight is null ? invstd : invstd * weight;
        var shift = -mean * scale;
        if (bias is not null)
        {
            shift = shift + bias;
        }

        return addcmul(GhostMoments.Coefficients(shift, layout), GhostMoments.Grouped(rows, layout),
            GhostMoments.Coefficients(scale, layout), 1).view_as(rows);
    }

    /// <summary>
    /// dL/dx = a·g + b·x + c per (ghost batch, channel), from Σg and Σg·x over each ghost batch, and the parameter
    /// gradients, in torch operations (the same formulas as <see cref="GhostCpuKernels.Backward"/>).
    /// </summary>
    private static (Tensor GradInput, Tensor GradWeight, Tensor GradBias) BackwardWithTorch(Tensor grad, Tensor rows,
        Tensor? weight, Tensor mean, Tensor invstd, GhostBatchLayout layout)
    {
        var valuesPerGhostBatch = GhostMoments.ValuesPerGhostBatch(rows, layout);
        var gradSum = GhostMoments.GhostBatchSums(GhostMoments.RowSums(grad), layout);
        var gradDotInput = GhostMoments.GhostBatchSums(GhostMoments.RowDots(grad, rows), layout);
        var gradDotNormalized = (gradDotInput - mean * gradSum) * invstd;
        var a = weight is null ? invstd : invstd * weight;
        var b = -a * invstd * gradDotNormalized / valuesPerGhostBatch;
        var c = -a * gradSum / valuesPerGhostBatch - b * mean;
        var gradInput = addcmul(GhostMoments.Coefficients(c, layout), GhostMoments.Grouped(rows, layout),
                GhostMoments.Coefficients(b, layout), 1)
            .addcmul_(GhostMoments.Grouped(grad, layout), GhostMoments.Coefficients(a, layout), 1)
            .view_as(rows);
        return (gradInput, gradDotNormalized.sum(dim: 0), gradSum.sum(dim: 0));
    }

    private static (Tensor Rows, Tensor? Weight, Tensor? Bias, GhostBatchLayout Layout, double Eps, bool KeepSavedTensors,
        RunningStatisticsTerms? RunningStatistics) Unpack(object[] vars) =>
        ((Tensor)vars[0], vars[1] as Tensor, vars[2] as Tensor, (GhostBatchLayout)vars[3], (double)vars[4], (bool)vars[5],
            vars[6] as RunningStatisticsTerms);

    private static void ReleaseReturnedGradients()
    {
        if (_returnedGradients is null)
        {
            return;
        }

        foreach (var gradient in _returnedGradients)
        {
            gradient.Dispose();
        }

        _returnedGradients.Clear();
    }
}
