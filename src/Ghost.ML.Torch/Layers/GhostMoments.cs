using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// Per-(ghost batch, channel) reductions of a batch viewed as rows <c>[N, C, S]</c> (S = values per channel in a
/// sample) in torch operations, for the devices and element types <see cref="GhostCpuKernels"/> does not take: each
/// (sample, channel) row is reduced on its own with contiguous, vectorised kernels, and the row results are then added
/// up per ghost batch over a <c>[ghost batches, G, C]</c> view (plus the ragged last ghost batch, if any).
/// </summary>
internal static class GhostMoments
{
    /// <summary>
    /// The largest mean² / variance at which the variance is taken as E[x²] − E[x]² (one pass); beyond it rounding in
    /// E[x²] would cost more than about 1e-4 of the variance, and the exact two-pass form is used instead.
    /// </summary>
    public static double OnePassLimit(ScalarType type) => 1e-4 / (16 * (type == ScalarType.Float64 ? 2.2e-16 : 1.2e-7));

    /// <summary>Mean and biased variance of every ghost batch and channel, each <c>[ghost batches, C]</c>.</summary>
    /// <param name="rows">The batch as <c>[N, C, S]</c>.</param>
    /// <param name="layout">How the batch is cut into ghost batches.</param>
    public static (Tensor Mean, Tensor Variance) Compute(Tensor rows, GhostBatchLayout layout)
    {
        var valuesPerGhostBatch = ValuesPerGhostBatch(rows, layout);
        var mean = GhostBatchSums(RowSums(rows), layout) / valuesPerGhostBatch;
        var meanSquare = GhostBatchSums(RowDots(rows, rows), layout) / valuesPerGhostBatch;
        var variance = (meanSquare - mean.square()).clamp_min(0);
        if ((meanSquare > variance * OnePassLimit(rows.dtype)).any().item<bool>())
        {
            var centered = (Grouped(rows, layout) - Coefficients(mean, layout)).view_as(rows);
            variance = GhostBatchSums(RowDots(centered, centered), layout) / valuesPerGhostBatch;
        }

        return (mean, variance);
    }

    /// <summary>Values per channel in each ghost batch, <c>[ghost batches, 1]</c>, in the element type and on the device of <paramref name="rows"/>.</summary>
    public static Tensor ValuesPerGhostBatch(Tensor rows, GhostBatchLayout layout) =>
        tensor(layout.Sizes.Select(size => (double)(size * rows.shape[2])).ToArray(), rows.dtype, rows.device).unsqueeze(1);

    /// <summary>Sum of every (sample, channel) row, <c>[N, C]</c>.</summary>
    public static Tensor RowSums(Tensor rows) => rows.shape[2] == 1 ? rows.squeeze(2) : rows.sum(dim: 2);

    /// <summary>Dot product of matching (sample, channel) rows of two <c>[N, C, S]</c> tensors, <c>[N, C]</c>.</summary>
    /// <remarks>A batched matrix product reads both operands once and writes no <c>[N, C, S]</c> temporary.</remarks>
    public static Tensor RowDots(Tensor left, Tensor right)
    {
        long n = left.shape[0], c = left.shape[1], s = left.shape[2];
        return s == 1
            ? (left * right).squeeze(2)
            : left.reshape(n * c, 1, s).bmm(right.reshape(n * c, s, 1)).view(n, c);
    }

    /// <summary>Adds up row results <c>[N, C]</c> per ghost batch, giving <c>[ghost batches, C]</c>.</summary>
    public static Tensor GhostBatchSums(Tensor rowValues, GhostBatchLayout layout)
    {
        var channels = rowValues.shape[1];
        var sums = rowValues.narrow(0, 0, layout.FullSampleCount)
            .view(layout.FullGhostBatchCount, layout.FullGhostBatchSize, channels)
            .sum(dim: 1);
        return layout.TailSize == 0
            ? sums
            : cat([sums, rowValues.narrow(0, layout.FullSampleCount, layout.TailSize).sum(dim: 0, keepdim: true)], 0);
    }

    /// <summary>
    /// <paramref name="rows"/> <c>[N, C, S]</c> arranged so that <see cref="Coefficients"/> broadcast against it: a
    /// <c>[ghost batches, G, C, S]</c> view when every ghost batch has the full size, the rows themselves otherwise.
    /// </summary>
    public static Tensor Grouped(Tensor rows, GhostBatchLayout layout) => layout.TailSize == 0
        ? rows.reshape(layout.FullGhostBatchCount, layout.FullGhostBatchSize, rows.shape[1], rows.shape[2])
        : rows;

    /// <summary>
    /// Per-ghost-batch values <c>[ghost batches, C]</c> shaped to broadcast against <see cref="Grouped"/> rows:
    /// <c>[ghost batches, 1, C, 1]</c>, or spread to every sample as <c>[N, C, 1]</c> when the last ghost batch is ragged.
    /// </summary>
    public static Tensor Coefficients(Tensor perGhostBatch, GhostBatchLayout layout)
    {
        var channels = perGhostBatch.shape[1];
        if (layout.TailSize == 0)
        {
            return perGhostBatch.view(layout.FullGhostBatchCount, 1, channels, 1);
        }

        var perSample = perGhostBatch.narrow(0, 0, layout.FullGhostBatchCount)
            .repeat_interleave(layout.FullGhostBatchSize, dim: 0);
        var tail = perGhostBatch.narrow(0, layout.FullGhostBatchCount, 1).expand(layout.TailSize, channels);
        return cat([perSample, tail], 0).unsqueeze(2);
    }
}
