using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// The training computation of a ghost layer, <c>y = (x − mean) · invstd · weight + bias</c> with per-(ghost batch,
/// channel) statistics computed from the input, as one autograd node with a hand-written backward: autograd through
/// the elementary operations would take several passes and allocate full-size temporaries. It saves only the input and
/// the small statistics. <see cref="GhostKernelChoice"/> picks <see cref="GhostCpuKernels"/> (one pass over memory each
/// way) or <see cref="GhostPortableKernels"/> (torch operations).
/// </summary>
/// <remarks>
/// Arguments of <c>apply</c>: rows <c>[N, C, S]</c>, weight <c>[C]</c> or null, bias <c>[C]</c> or null, the
/// <see cref="GhostBatchLayout"/>, eps, whether the saved tensors outlive the backward
/// (<see cref="GhostBatchNorm.KeepSavedTensorsAfterBackward"/>), and the <see cref="RunningStatisticsTerms"/> to
/// report, or null. The output holds N·C·S values in a shape of the path's choosing; the caller reshapes it. When the
/// backward runs with grad mode on (<c>create_graph</c>), it recomputes the statistics and the gradient in
/// differentiable torch operations, so gradients of the gradient are exact.
/// </remarks>
internal sealed class GhostNormalization : autograd.SingleTensorFunction<GhostNormalization>
{
    // The engine copies the gradients a backward returns only after it returns, so their wrappers are released on
    // this thread's next call instead of waiting for finalisation (which would keep full-size buffers alive).
    [ThreadStatic]
    private static List<Tensor>? _returnedGradients;

    private const string SavedTensorsReleased = "released";
    private const string KeepSavedTensors = "keep";
    private const string CpuKernels = "cpu";

    /// <inheritdoc/>
    public override string Name => "GhostBatchNormBackward";

    /// <inheritdoc/>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ReleaseReturnedGradients();
        var (rows, weight, bias, layout, eps, keepSavedTensors, runningStatistics) = Unpack(vars);
        var cpuKernels = GhostKernelChoice.UsesCpuKernels(rows);
        Tensor output, mean, invstd;
        if (cpuKernels)
        {
            var runningWeights = runningStatistics is null
                ? ((double[], double[])?)null
                : (runningStatistics.MeanWeights(layout), runningStatistics.VarianceWeights(layout));
            (output, mean, invstd, var weightedMeans, var weightedVariances) =
                GhostCpuKernels.Forward(rows, weight, bias, layout, eps, runningWeights);
            runningStatistics?.Report(weightedMeans!, weightedVariances!);
        }
        else
        {
            (output, mean, invstd) = GhostPortableKernels.Forward(rows, weight, bias, layout, eps, runningStatistics);
        }

        ctx.save_for_backward([rows, weight!, mean, invstd]);
        ctx.save_data(KeepSavedTensors, keepSavedTensors);
        ctx.save_data(CpuKernels, cpuKernels);
        ctx.save_data("bias", bias is not null);
        ctx.save_data("layout", layout);
        ctx.save_data("eps", eps);
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

        // With create_graph the gradient's own backward may run this node again, so its saved tensors must stay.
        var differentiable = is_grad_enabled();
        List<Tensor> gradients;
        using (var scope = NewDisposeScope())
        {
            var saved = ctx.get_saved_variables();
            var (rows, weight, mean, invstd) = (saved[0], saved[1], saved[2], saved[3]);
            var hasBias = (bool)ctx.get_data("bias");
            var layout = (GhostBatchLayout)ctx.get_data("layout");
            Tensor gradInput, gradWeight, gradBias;
            if (differentiable)
            {
                // create_graph: the saved statistics carry no history, so they are recomputed from the input.
                var (differentiableMean, differentiableInvstd) =
                    GhostPortableKernels.Statistics(rows, layout, (double)ctx.get_data("eps"));
                (gradInput, gradWeight, gradBias) = GhostPortableKernels.Backward(grad_output, rows, differentiableMean,
                    differentiableInvstd, weight, layout);
            }
            else if ((bool)ctx.get_data(CpuKernels))
            {
                (gradInput, gradWeight, gradBias) =
                    GhostCpuKernels.Backward(grad_output.reshape(rows.shape), rows, mean, invstd, weight, layout);
            }
            else
            {
                (gradInput, gradWeight, gradBias) = GhostPortableKernels.Backward(grad_output, rows, mean, invstd, weight, layout);
            }

            gradients =
            [
                gradInput,
                weight is null ? null! : To(gradWeight, weight.dtype),
                hasBias ? To(gradBias, weight?.dtype ?? gradBias.dtype) : null!,
                null!, null!, null!, null!,
            ];
            foreach (var gradient in gradients)
            {
                gradient?.DetachFromDisposeScope();
            }
        }

        // TorchSharp keeps a custom node's saved tensors until the whole graph is freed, where PyTorch frees them as
        // the node's backward finishes: without this every ghost layer's input would stay alive through the backward.
        if (ctx.get_data(KeepSavedTensors) is not true && !differentiable)
        {
            ctx.Dispose();
            ctx.save_data(SavedTensorsReleased, true);
        }

        grad_output.Dispose();
        (_returnedGradients ??= []).AddRange(gradients.Where(gradient => gradient is not null));
        return gradients;
    }

    private static Tensor To(Tensor tensor, ScalarType type) => tensor.dtype == type ? tensor : tensor.to_type(type);

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
