using System.Diagnostics.CodeAnalysis;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// The ghost layer's training computation in torch operations over views of the batch, for the tensors
/// <see cref="GhostCpuKernels"/> does not take: CUDA, half precision, CPU tensors over 2 GiB, and every tensor when
/// <see cref="GhostKernelChoice.ForcePortable"/> is set. Same formulas as the CPU kernels.
/// </summary>
/// <remarks>
/// The batch <c>[N, C, S]</c> is seen as at most two groups of equal ghost batches, <c>[k, B, C, S]</c> over the
/// ghost batches of the full size B and <c>[1, T, C, S]</c> over a last one of another size T; only dimension 0 is
/// split, so the views exist for any strides (a permuted input needs no copy). Per-ghost-batch sizes enter as scalars
/// and the running-statistics weights are made on the device, so a step neither copies from the host nor waits for
/// the device. Half-precision batches are reduced and normalised in float32 (float32 copies that live only while the
/// forward or backward runs; the half input is what is saved); results come back in the batch's type.
/// </remarks>
internal static class GhostPortableKernels
{
    private static readonly long[] ReducedDimensions = [1, 3];

    /// <summary>The training forward, as <see cref="GhostCpuKernels.Forward"/>.</summary>
    /// <param name="rows">The batch as <c>[N, C, S]</c>, any strides.</param>
    /// <param name="weight">Per-channel scale <c>[C]</c>, or null.</param>
    /// <param name="bias">Per-channel shift <c>[C]</c>, or null.</param>
    /// <param name="layout">How the batch is cut into ghost batches.</param>
    /// <param name="eps">Added to the variance for numerical stability.</param>
    /// <param name="runningStatistics">The running-statistics sums to report, or null.</param>
    /// <returns>
    /// The output (a new tensor, never a view: autograd forbids in-place changes to a view made inside a custom
    /// function, and ReLU(inplace) follows BatchNorm in TorchVision's networks) with N·C·S elements, and per
    /// (ghost batch, channel) the mean and invstd, <c>[ghost batches, C]</c> in the compute type.
    /// </returns>
    public static (Tensor Output, Tensor Mean, Tensor Invstd) Forward(Tensor rows, Tensor? weight, Tensor? bias,
        GhostBatchLayout layout, double eps, RunningStatisticsTerms? runningStatistics)
    {
        var type = ComputeType(rows.dtype);
        var (outputs, means, invstds) = (new List<Tensor>(2), new List<Tensor>(2), new List<Tensor>(2));
        Tensor? weightedMeans = null, weightedVariances = null;
        foreach (var group in Groups(rows, layout))
        {
            var x = To(group.Rows, type);
            var (variance, mean) = x.var_mean(ReducedDimensions, unbiased: false);
            var invstd = (variance + eps).rsqrt();
            var scale = weight is null ? invstd : invstd * To(weight, type);
            var shift = bias is null ? -mean * scale : To(bias, type) - mean * scale;
            outputs.Add(To(addcmul(Broadcast(shift), x, Broadcast(scale), 1), rows.dtype));
            means.Add(mean);
            invstds.Add(invstd);
            if (runningStatistics is not null)
            {
                var weights = runningStatistics.MeanWeights(layout, group.First, group.Count, type, rows.device);
                weightedMeans = Add(weightedMeans, weights.matmul(mean));
                weightedVariances = Add(weightedVariances,
                    weights.matmul(variance).mul_(RunningStatisticsTerms.BesselFactor(group.ValuesPerGhostBatch)));
            }
        }

        runningStatistics?.Report(weightedMeans!, weightedVariances!);
        return (JoinSamples(outputs), JoinGhostBatches(means), JoinGhostBatches(invstds));
    }

    /// <summary>
    /// Per (ghost batch, channel) mean and invstd as differentiable functions of <paramref name="rows"/>, for a
    /// backward that must itself be differentiated (<c>create_graph</c>).
    /// </summary>
    public static (Tensor Mean, Tensor Invstd) Statistics(Tensor rows, GhostBatchLayout layout, double eps)
    {
        var (means, invstds) = (new List<Tensor>(2), new List<Tensor>(2));
        foreach (var group in Groups(rows, layout))
        {
            var (variance, mean) = To(group.Rows, ComputeType(rows.dtype)).var_mean(ReducedDimensions, unbiased: false);
            means.Add(mean);
            invstds.Add((variance + eps).rsqrt());
        }

        return (JoinGhostBatches(means), JoinGhostBatches(invstds));
    }

    /// <summary>
    /// The backward, as <see cref="GhostCpuKernels.Backward"/>: dL/dx = a·g + b·x + c per (ghost batch, channel).
    /// Every operation is differentiable, so with grad mode on it also records the graph of the gradient.
    /// </summary>
    /// <param name="grad">dL/dy with N·C·S elements.</param>
    /// <param name="rows">The layer input as <c>[N, C, S]</c>.</param>
    /// <param name="mean">Per-pair means in the compute type.</param>
    /// <param name="invstd">Per-pair 1 / √(variance + eps) in the compute type.</param>
    /// <param name="weight">Per-channel scale <c>[C]</c>, or null.</param>
    /// <param name="layout">How the batch is cut into ghost batches.</param>
    /// <returns>dL/dx <c>[N, C, S]</c> in the batch's type; Σg·x̂ and Σg per channel in the compute type.</returns>
    public static (Tensor GradInput, Tensor GradWeight, Tensor GradBias) Backward(Tensor grad, Tensor rows, Tensor mean,
        Tensor invstd, Tensor? weight, GhostBatchLayout layout)
    {
        var type = mean.dtype;
        var gradInputs = new List<Tensor>(2);
        Tensor? gradWeight = null, gradBias = null;
        foreach (var (group, gradGroup) in Groups(rows, layout).Zip(Groups(grad.reshape(rows.shape), layout)))
        {
            var (x, g) = (To(group.Rows, type), To(gradGroup.Rows, type));
            var (groupMean, groupInvstd) = (mean.narrow(0, group.First, group.Count), invstd.narrow(0, group.First, group.Count));
            var gradSum = g.sum(ReducedDimensions);
            var gradDotNormalized = (x - Broadcast(groupMean)).mul_(g).sum(ReducedDimensions) * groupInvstd;
            var a = weight is null ? groupInvstd : groupInvstd * To(weight, type);
            var perValue = 1.0 / group.ValuesPerGhostBatch;
            var b = -a * groupInvstd * gradDotNormalized * perValue;
            var c = -a * gradSum * perValue - b * groupMean;
            gradInputs.Add(To(addcmul(Broadcast(c), x, Broadcast(b), 1).addcmul_(g, Broadcast(a), 1), rows.dtype));
            gradWeight = Add(gradWeight, gradDotNormalized.sum(dim: 0));
            gradBias = Add(gradBias, gradSum.sum(dim: 0));
        }

        return (JoinSamples(gradInputs).reshape(rows.shape), gradWeight!, gradBias!);
    }

    /// <summary>The type moments are taken in: float32 for 16-bit floats, the batch's own type otherwise.</summary>
    private static ScalarType ComputeType(ScalarType type) =>
        type is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : type;

    /// <summary>
    /// The batch as groups of equal ghost batches: <c>[k, B, C, S]</c> over the ghost batches of the full size, then
    /// <c>[1, T, C, S]</c> over a last one of another size; each with the index of its first ghost batch.
    /// </summary>
    private static IEnumerable<Group> Groups(Tensor rows, GhostBatchLayout layout)
    {
        var (channels, values) = (rows.shape[1], rows.shape[2]);
        if (layout.FullGhostBatchCount > 0)
        {
            yield return new Group(
                rows.narrow(0, 0, layout.FullSampleCount)
                    .view(layout.FullGhostBatchCount, layout.FullGhostBatchSize, channels, values),
                0, layout.FullGhostBatchCount, layout.FullGhostBatchSize * values);
        }

        if (layout.TailSize > 0)
        {
            yield return new Group(rows.narrow(0, layout.FullSampleCount, layout.TailSize).unsqueeze(0),
                layout.FullGhostBatchCount, 1, layout.TailSize * values);
        }
    }

    /// <summary>Per-(ghost batch, channel) values <c>[k, C]</c> shaped to broadcast against a group, <c>[k, 1, C, 1]</c>.</summary>
    private static Tensor Broadcast(Tensor perPair) => perPair.unsqueeze(1).unsqueeze(3);

    /// <summary>Per-group <c>[k, C]</c> values as one <c>[ghost batches, C]</c> tensor.</summary>
    private static Tensor JoinGhostBatches(List<Tensor> perGroup) => perGroup.Count == 1 ? perGroup[0] : cat(perGroup, 0);

    /// <summary>Per-group <c>[k, B, C, S]</c> values as one new tensor: a single group's as it is, else <c>[N, C, S]</c>.</summary>
    private static Tensor JoinSamples(List<Tensor> perGroup) =>
        perGroup.Count == 1 ? perGroup[0] : cat(perGroup.Select(part => part.flatten(0, 1)).ToList(), 0);

    private static Tensor Add(Tensor? sum, Tensor term) => sum is null ? term : sum + term;

    [return: NotNullIfNotNull(nameof(tensor))]
    private static Tensor? To(Tensor? tensor, ScalarType type) =>
        tensor is null || tensor.dtype == type ? tensor : tensor.to_type(type);

    private readonly record struct Group(Tensor Rows, int First, int Count, long ValuesPerGhostBatch);
}
