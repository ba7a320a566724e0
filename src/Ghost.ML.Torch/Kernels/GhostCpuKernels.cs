using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// The ghost layer's training computation as vectorised managed loops over contiguous float CPU tensors seen as rows
/// <c>[N, C, S]</c>. Each (ghost batch, block of channels) work item is small enough to stay in cache, so the forward
/// reads the input from memory once: the item's moments, then its normalisation, while its rows are still cached
/// (BatchNorm's CPU kernel reads the whole input twice for its moments and once more to normalise). The backward
/// likewise reads the gradient and the input once per item for Σg, Σg·(x − mean) and the input gradient. Per-pair
/// coefficients are worked out inside the loops, so no full-size temporary is allocated. Other devices and element
/// types take <see cref="GhostPortableKernels"/>, which computes the same formulas.
/// </summary>
/// <remarks>
/// The loops, and the cut into (ghost batch, block of channels) work items of about <see cref="ValuesPerWorkItem"/>
/// values per sample run on <c>torch.get_num_threads()</c> threads, are in <see cref="GhostCpuLoops"/>; this class
/// holds the per-pair arithmetic. Per-pair tensors are <c>[ghost batches, C]</c> in the element type of the rows. The
/// loops are compiled fully optimised on first use: at tier 0 the vector operations are calls, several times slower,
/// and a training run would pay that until tiering caught up. Per-pair scratch spans are padded to whole vectors and
/// not zeroed (<see cref="SkipLocalsInitAttribute"/>): the padding lanes are computed on and discarded, and the one
/// decision that reads every lane (whether to re-sum around the mean) only sees cleared padding.
/// </remarks>
[SkipLocalsInit]
internal static unsafe class GhostCpuKernels
{
    private const long ValuesPerWorkItem = 1024;

    // Quantities of the GhostChannelSums each pass gathers.
    private const int WeightedMeans = 0;
    private const int WeightedVariances = 1;
    private const int WeightGradient = 0;
    private const int BiasGradient = 1;

    /// <summary>Whether the kernels handle <paramref name="rows"/>: a float32 or float64 CPU tensor under 2 GiB.</summary>
    public static bool CanRun(Tensor rows) =>
        rows.device_type == DeviceType.CPU
        && rows.dtype is ScalarType.Float32 or ScalarType.Float64
        && rows.numel() * rows.element_size() <= int.MaxValue;

    /// <summary>
    /// The largest mean² / variance at which the variance is taken as E[x²] − E[x]² around the shift (one pass); beyond
    /// it rounding would cost more than about 1e-4 of the variance, and the pair is summed again around its mean.
    /// </summary>
    private static double OnePassLimit(ScalarType type) => 1e-4 / (16 * (type == ScalarType.Float64 ? 2.2e-16 : 1.2e-7));

    /// <summary>
    /// The training forward: per (ghost batch, channel) pair the mean and biased variance of the input, and
    /// <c>(x − mean) · invstd · weight + bias</c> with <c>invstd = 1 / √(variance + eps)</c>; optionally the
    /// per-channel sums Σⱼ wⱼ · meanⱼ and Σⱼ vⱼ · varianceⱼ over the ghost batches j that update the running statistics
    /// (the per-pair variances themselves are not kept).
    /// </summary>
    /// <remarks>
    /// The moments come from Σ(x − s) and Σ(x − s)² with s the pair's first value, which keeps the one-pass form
    /// accurate unless the mean lies far from s; such pairs are summed again around their mean.
    /// </remarks>
    /// <param name="rows">The batch as contiguous <c>[N, C, S]</c>.</param>
    /// <param name="weight">Per-channel scale <c>[C]</c>, or null.</param>
    /// <param name="bias">Per-channel shift <c>[C]</c>, or null.</param>
    /// <param name="layout">How the batch is cut into ghost batches.</param>
    /// <param name="eps">Added to the variance for numerical stability.</param>
    /// <param name="runningWeights">wⱼ and vⱼ for every ghost batch, or null for no running-statistics sums.</param>
    /// <returns>
    /// The output <c>[N, C, S]</c>, per pair the mean and invstd, and the running-statistics sums <c>[C]</c> (null
    /// without weights).
    /// </returns>
    public static (Tensor Output, Tensor Mean, Tensor Invstd, Tensor? WeightedMeans, Tensor? WeightedVariances) Forward(
        Tensor rows, Tensor? weight, Tensor? bias, GhostBatchLayout layout, double eps,
        (double[] Mean, double[] Variance)? runningWeights)
    {
        CheckRows(rows, layout);
        CheckShape(weight, [rows.shape[1]], nameof(weight));
        CheckShape(bias, [rows.shape[1]], nameof(bias));
        if (runningWeights is { } given && (given.Mean.Length != layout.Count || given.Variance.Length != layout.Count))
        {
            throw new ArgumentException($"Expected {layout.Count} running-statistics weights of each kind.", nameof(runningWeights));
        }

        var output = empty(rows.shape, rows.dtype);
        var mean = empty(layout.Count, rows.shape[1], rows.dtype);
        var invstd = empty(layout.Count, rows.shape[1], rows.dtype);
        var weightedMeans = runningWeights is null ? null : empty(rows.shape[1], rows.dtype);
        var weightedVariances = runningWeights is null ? null : empty(rows.shape[1], rows.dtype);
        using var scope = NewDisposeScope();
        (rows, weight, bias) = (As(rows, rows), As(weight, rows), As(bias, rows));
        var loops = new GhostCpuLoops(rows, layout, ValuesPerWorkItem);
        var channels = (Data(weight), Data(bias));
        var pairs = (Data(mean), Data(invstd));
        var limit = OnePassLimit(rows.dtype);
        var weightedSums = runningWeights is null ? ((Tensor, Tensor)?)null : (weightedMeans!, weightedVariances!);
        if (rows.dtype == ScalarType.Float32)
        {
            Forward<float>(loops, Data(rows), channels, pairs, eps, limit, Data(output), runningWeights, weightedSums);
        }
        else
        {
            Forward<double>(loops, Data(rows), channels, pairs, eps, limit, Data(output), runningWeights, weightedSums);
        }

        return (output, mean, invstd, weightedMeans, weightedVariances);
    }

    /// <summary>
    /// The backward of <see cref="Forward"/>: dL/dx = a·g + b·x + c per (ghost batch, channel), from Σg and
    /// Σg·(x − mean) over each ghost batch, and the parameter gradients.
    /// </summary>
    /// <param name="grad">dL/dy as <c>[N, C, S]</c>.</param>
    /// <param name="rows">The layer input as contiguous <c>[N, C, S]</c>.</param>
    /// <param name="mean">Per-pair means.</param>
    /// <param name="invstd">Per-pair 1 / √(variance + eps).</param>
    /// <param name="weight">Per-channel scale <c>[C]</c>, or null.</param>
    /// <param name="layout">How the batch is cut into ghost batches.</param>
    /// <returns>dL/dx, and per channel Σg·x̂ (the weight gradient) and Σg (the bias gradient).</returns>
    public static (Tensor GradInput, Tensor GradWeight, Tensor GradBias) Backward(Tensor grad, Tensor rows,
        Tensor mean, Tensor invstd, Tensor? weight, GhostBatchLayout layout)
    {
        CheckRows(rows, layout);
        CheckShape(grad, rows.shape, nameof(grad));
        CheckShape(mean, PerPairShape(rows, layout), nameof(mean));
        CheckShape(invstd, PerPairShape(rows, layout), nameof(invstd));
        CheckShape(weight, [rows.shape[1]], nameof(weight));
        var gradInput = empty(rows.shape, rows.dtype);
        var gradWeight = empty(rows.shape[1], rows.dtype);
        var gradBias = empty(rows.shape[1], rows.dtype);
        using var scope = NewDisposeScope();
        (grad, rows, mean, invstd, weight) = (As(grad, rows), As(rows, rows), As(mean, rows), As(invstd, rows), As(weight, rows));
        var loops = new GhostCpuLoops(rows, layout, ValuesPerWorkItem);
        var pairs = (Data(mean), Data(invstd), Data(weight));
        if (rows.dtype == ScalarType.Float32)
        {
            Backward<float>(loops, Data(grad), Data(rows), pairs, Data(gradInput), gradWeight, gradBias);
        }
        else
        {
            Backward<double>(loops, Data(grad), Data(rows), pairs, Data(gradInput), gradWeight, gradBias);
        }

        return (gradInput, gradWeight, gradBias);
    }

    private static void Forward<T>(GhostCpuLoops loops, nint rows, (nint Weight, nint Bias) channels,
        (nint Mean, nint Invstd) pairs, double eps, double limit, nint output, (double[] Mean, double[] Variance)? runningWeights,
        (Tensor Means, Tensor Variances)? weightedSums)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var sums = runningWeights is null ? null : new GhostChannelSums<T>(2, loops.Slots, loops.Channels);
        var (epsilon, onePassLimit) = (T.CreateTruncating(eps), T.CreateTruncating(limit));
        loops.ForEachWorkItem([MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, slot) =>
        {
            var length = Padded<T>(item.Channels);
            Span<T> shiftedSums = stackalloc T[length];
            Span<T> shiftedSquareSums = stackalloc T[length];
            Span<T> variances = stackalloc T[length];
            var firstValues = loops.FirstValues(item, (T*)rows, stackalloc T[length]);
            var means = item.PairsToWrite((T*)pairs.Mean, stackalloc T[length]);
            var invstds = item.PairsToWrite((T*)pairs.Invstd, stackalloc T[length]);
            loops.Sums(item, (T*)rows, firstValues, (T*)rows, firstValues, shiftedSums, shiftedSquareSums);
            if (ShiftedMoments(item, firstValues, shiftedSums, shiftedSquareSums, means, variances, onePassLimit))
            {
                loops.Sums(item, (T*)rows, means, (T*)rows, means, shiftedSums, shiftedSquareSums);
                ShiftedMoments(item, means, shiftedSums, shiftedSquareSums, means, variances, onePassLimit);
            }

            var weights = item.ChannelValues((T*)channels.Weight, T.One, stackalloc T[length]);
            var biases = item.ChannelValues((T*)channels.Bias, T.Zero, stackalloc T[length]);
            Span<T> scales = stackalloc T[length];
            Span<T> shifts = stackalloc T[length];
            NormalizationCoefficients(means, variances, weights, biases, epsilon, invstds, scales, shifts);
            loops.Combine(item, (T*)rows, scales, null, default, shifts, (T*)output);
            if (sums is not null && runningWeights is { } weightsOf)
            {
                sums.Add(WeightedMeans, slot, item.FirstChannel, item.Channels, means, T.CreateTruncating(weightsOf.Mean[item.Ghost]));
                sums.Add(WeightedVariances, slot, item.FirstChannel, item.Channels, variances,
                    T.CreateTruncating(weightsOf.Variance[item.Ghost]));
            }

            item.Store(means, (T*)pairs.Mean);
            item.Store(invstds, (T*)pairs.Invstd);
        });
        if (sums is not null && weightedSums is { } targets)
        {
            sums.CopyTo(WeightedMeans, targets.Means);
            sums.CopyTo(WeightedVariances, targets.Variances);
        }
    }

    /// <summary>
    /// Means and variances from the sums around <paramref name="shifts"/>; true when some pair's mean lies so far from
    /// its shift that the variance must be summed again around the mean.
    /// </summary>
    /// <remarks>
    /// This and the other per-pair loops index raw pointers: at small ghost batches there is one pair for every few
    /// values, and span bounds checks made these loops cost as much as the passes over the data.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ShiftedMoments<T>(GhostCpuWorkItem item, ReadOnlySpan<T> shifts, ReadOnlySpan<T> sums,
        ReadOnlySpan<T> squareSums, Span<T> means, Span<T> variances, T limit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var perValue = new Vector<T>(T.One / T.CreateTruncating(item.Values));
        var limits = new Vector<T>(limit);
        var resum = Vector<T>.Zero;
        fixed (T* shift = shifts, sum = sums, squareSum = squareSums, mean = means, variance = variances)
        {
            for (var i = 0; i < means.Length; i += Vector<T>.Count)
            {
                var meanOffset = Vector.Load(sum + i) * perValue;
                var pairVariance = Vector.Max(Vector.Load(squareSum + i) * perValue - meanOffset * meanOffset, Vector<T>.Zero);
                resum |= Vector.GreaterThan(meanOffset * meanOffset, pairVariance * limits);
                Vector.Store(Vector.Load(shift + i) + meanOffset, mean + i);
                Vector.Store(pairVariance, variance + i);
            }
        }

        return resum != Vector<T>.Zero;
    }

    /// <summary>invstd = 1 / √(variance + eps), and the forward's y = scale·x + shift per pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NormalizationCoefficients<T>(ReadOnlySpan<T> means, ReadOnlySpan<T> variances,
        ReadOnlySpan<T> weights, ReadOnlySpan<T> biases, T eps, Span<T> invstds, Span<T> scales, Span<T> shifts)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var epsVector = new Vector<T>(eps);
        fixed (T* mean = means, variance = variances, weight = weights, bias = biases, invstd = invstds, scale = scales,
            shift = shifts)
        {
            for (var i = 0; i < scales.Length; i += Vector<T>.Count)
            {
                var pairInvstd = Vector<T>.One / Vector.SquareRoot(Vector.Load(variance + i) + epsVector);
                var pairScale = pairInvstd * Vector.Load(weight + i);
                Vector.Store(pairInvstd, invstd + i);
                Vector.Store(pairScale, scale + i);
                Vector.Store(Vector.Load(bias + i) - Vector.Load(mean + i) * pairScale, shift + i);
            }
        }
    }

    private static void Backward<T>(GhostCpuLoops loops, nint grad, nint rows, (nint Mean, nint Invstd, nint Weight) pairs,
        nint gradInput, Tensor gradWeight, Tensor gradBias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var sums = new GhostChannelSums<T>(2, loops.Slots, loops.Channels);
        loops.ForEachWorkItem([MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, slot) =>
        {
            var length = Padded<T>(item.Channels);
            Span<T> zeros = stackalloc T[length];
            zeros.Clear();
            var means = item.Pairs((T*)pairs.Mean, stackalloc T[length]);
            var invstds = item.Pairs((T*)pairs.Invstd, stackalloc T[length]);
            var weights = item.ChannelValues((T*)pairs.Weight, T.One, stackalloc T[length]);
            Span<T> gradSums = stackalloc T[length];
            Span<T> gradDotNormalized = stackalloc T[length];
            loops.Sums(item, (T*)grad, zeros, (T*)rows, means, gradSums, gradDotNormalized);
            Span<T> a = stackalloc T[length];
            Span<T> b = stackalloc T[length];
            Span<T> c = stackalloc T[length];
            GradientCoefficients(item, means, invstds, weights, gradSums, gradDotNormalized, a, b, c);
            loops.Combine(item, (T*)grad, a, (T*)rows, b, c, (T*)gradInput);
            sums.Add(WeightGradient, slot, item.FirstChannel, item.Channels, gradDotNormalized, T.One);
            sums.Add(BiasGradient, slot, item.FirstChannel, item.Channels, gradSums, T.One);
        });
        sums.CopyTo(WeightGradient, gradWeight);
        sums.CopyTo(BiasGradient, gradBias);
    }

    /// <summary>
    /// dL/dx = a·g + b·x + c per pair, from Σg and Σg·(x − mean); Σg·(x − mean) becomes Σg·x̂ in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradientCoefficients<T>(GhostCpuWorkItem item, ReadOnlySpan<T> means, ReadOnlySpan<T> invstds,
        ReadOnlySpan<T> weights, ReadOnlySpan<T> gradSums, Span<T> gradDotNormalized, Span<T> a, Span<T> b, Span<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var perValue = new Vector<T>(T.One / T.CreateTruncating(item.Values));
        fixed (T* mean = means, invstd = invstds, weight = weights, gradSum = gradSums, dotNormalized = gradDotNormalized,
            gradScale = a, inputScale = b, offset = c)
        {
            for (var i = 0; i < a.Length; i += Vector<T>.Count)
            {
                var pairInvstd = Vector.Load(invstd + i);
                var pairDotNormalized = Vector.Load(dotNormalized + i) * pairInvstd;
                var pairGradScale = pairInvstd * Vector.Load(weight + i);
                var pairInputScale = -pairGradScale * pairInvstd * pairDotNormalized * perValue;
                Vector.Store(pairDotNormalized, dotNormalized + i);
                Vector.Store(pairGradScale, gradScale + i);
                Vector.Store(pairInputScale, inputScale + i);
                Vector.Store(-pairGradScale * Vector.Load(gradSum + i) * perValue - pairInputScale * Vector.Load(mean + i),
                    offset + i);
            }
        }
    }

    /// <exception cref="ArgumentException">The rows are not <c>[N, C, S]</c> or the layout does not cut exactly N samples.</exception>
    private static void CheckRows(Tensor rows, GhostBatchLayout layout)
    {
        if (rows.ndim != 3)
        {
            throw new ArgumentException($"Expected rows of shape [N, C, S]; got [{string.Join(", ", rows.shape)}].", nameof(rows));
        }

        if (layout.BatchSize != rows.shape[0])
        {
            throw new ArgumentException(
                $"The ghost batch layout covers {layout.BatchSize} samples; the rows hold {rows.shape[0]}.", nameof(layout));
        }
    }

    /// <exception cref="ArgumentException"><paramref name="tensor"/> is not null and not of shape <paramref name="expected"/>.</exception>
    private static void CheckShape(Tensor? tensor, long[] expected, string name)
    {
        if (tensor is not null && !tensor.shape.SequenceEqual(expected))
        {
            throw new ArgumentException(
                $"Expected {name} of shape [{string.Join(", ", expected)}]; got [{string.Join(", ", tensor.shape)}].", name);
        }
    }

    private static long[] PerPairShape(Tensor rows, GhostBatchLayout layout) => [layout.Count, rows.shape[1]];

    /// <summary><paramref name="count"/> rounded up to whole vectors, so per-pair loops need no scalar remainder.</summary>
    private static int Padded<T>(int count) => (count + Vector<T>.Count - 1) / Vector<T>.Count * Vector<T>.Count;

    /// <summary>
    /// <paramref name="tensor"/> as the kernels read it: contiguous and of the element type of <paramref name="rows"/>;
    /// the tensor itself when it already is (its gradient tracking does not matter to raw memory reads).
    /// </summary>
    [return: NotNullIfNotNull(nameof(tensor))]
    private static Tensor? As(Tensor? tensor, Tensor rows) =>
        tensor is null || (tensor.dtype == rows.dtype && tensor.is_contiguous())
            ? tensor
            : tensor.detach().to_type(rows.dtype).contiguous();

    /// <summary>The address of the tensor's data, or zero for no tensor.</summary>
    private static nint Data(Tensor? tensor)
    {
        if (tensor is null)
        {
            return 0;
        }

        fixed (byte* data = tensor.bytes)
        {
            // Torch owns the memory and the caller keeps the tensor alive, so the address stays valid after the block.
            return (nint)data;
        }
    }
}
