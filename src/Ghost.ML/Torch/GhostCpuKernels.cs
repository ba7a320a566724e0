using System.Numerics;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// The ghost layer's training computation as vectorised managed loops over contiguous float CPU tensors seen as rows
/// <c>[N, C, S]</c>: the moments in one pass (BatchNorm's CPU kernel takes two), the normalisation in one, and the
/// backward in two (the gradient sums, then the input gradient), with every per-(ghost batch, channel) coefficient
/// worked out inside the loops, so no full-size or per-pair temporary is allocated. Other devices and element types
/// take the torch-operation path in <see cref="GhostMoments"/> and <see cref="GhostNormalization"/>, which computes the
/// same formulas.
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

    /// <summary>
    /// Whether float CPU tensors take these kernels (the default); tests and benchmarks switch it off to run the
    /// torch-operation path that other devices take.
    /// </summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>Whether the kernels handle <paramref name="rows"/>: a float32 or float64 CPU tensor under 2 GiB.</summary>
    public static bool CanRun(Tensor rows) =>
        Enabled
        && rows.device_type == DeviceType.CPU
        && rows.dtype is ScalarType.Float32 or ScalarType.Float64
        && rows.numel() * rows.element_size() <= int.MaxValue;

    /// <summary>
    /// Mean and biased variance of every (ghost batch, channel) pair, from Σ(x − s) and Σ(x − s)² with s the pair's first
    /// value, which keeps the one-pass form accurate unless the mean lies far from s; such pairs are summed again
    /// around their mean.
    /// </summary>
    /// <param name="rows">The batch as contiguous <c>[N, C, S]</c>.</param>
    /// <param name="layout">How the batch is cut into ghost batches.</param>
    public static (Tensor Mean, Tensor Variance) Moments(Tensor rows, GhostBatchLayout layout)
    {
        CheckRows(rows, layout);
        var mean = empty(layout.Count, rows.shape[1], rows.dtype);
        var variance = empty(layout.Count, rows.shape[1], rows.dtype);
        using var scope = NewDisposeScope();
        rows = rows.contiguous();
        var limit = GhostMoments.OnePassLimit(rows.dtype);
        if (rows.dtype == ScalarType.Float32)
        {
            Moments(new GhostCpuLoops(rows, layout, ValuesPerWorkItem), Data(rows), Data(mean), Data(variance), (float)limit);
        }
        else
        {
            Moments(new GhostCpuLoops(rows, layout, ValuesPerWorkItem), Data(rows), Data(mean), Data(variance), limit);
        }

        return (mean, variance);
    }

    /// <summary><c>(x − mean) · invstd · weight + bias</c> per (ghost batch, channel).</summary>
    /// <param name="rows">The batch as contiguous <c>[N, C, S]</c>.</param>
    /// <param name="mean">Per-pair means.</param>
    /// <param name="invstd">Per-pair 1 / √(variance + eps).</param>
    /// <param name="weight">Per-channel scale <c>[C]</c>, or null.</param>
    /// <param name="bias">Per-channel shift <c>[C]</c>, or null.</param>
    /// <param name="layout">How the batch is cut into ghost batches.</param>
    public static Tensor Normalize(Tensor rows, Tensor mean, Tensor invstd, Tensor? weight, Tensor? bias, GhostBatchLayout layout)
    {
        CheckRows(rows, layout);
        CheckShape(mean, PerPairShape(rows, layout), nameof(mean));
        CheckShape(invstd, PerPairShape(rows, layout), nameof(invstd));
        CheckShape(weight, [rows.shape[1]], nameof(weight));
        CheckShape(bias, [rows.shape[1]], nameof(bias));
        var output = empty(rows.shape, rows.dtype);
        using var scope = NewDisposeScope();
        (rows, mean, invstd) = (rows.contiguous(), As(mean, rows), As(invstd, rows));
        (weight, bias) = (WeightOrOnes(weight, rows), BiasOrZeros(bias, rows));
        var pairs = (Data(mean), Data(invstd), Data(weight), Data(bias));
        if (rows.dtype == ScalarType.Float32)
        {
            Normalize<float>(new GhostCpuLoops(rows, layout, ValuesPerWorkItem), Data(rows), pairs, Data(output));
        }
        else
        {
            Normalize<double>(new GhostCpuLoops(rows, layout, ValuesPerWorkItem), Data(rows), pairs, Data(output));
        }

        return output;
    }

    /// <summary>
    /// The backward of <see cref="Normalize"/>: dL/dx = a·g + b·x + c per (ghost batch, channel), from Σg and
    /// Σg·(x − mean) over each ghost batch.
    /// </summary>
    /// <param name="grad">dL/dy as contiguous <c>[N, C, S]</c>.</param>
    /// <param name="rows">The layer input as contiguous <c>[N, C, S]</c>.</param>
    /// <param name="mean">Per-pair means.</param>
    /// <param name="invstd">Per-pair 1 / √(variance + eps).</param>
    /// <param name="weight">Per-channel scale <c>[C]</c>, or null.</param>
    /// <param name="layout">How the batch is cut into ghost batches.</param>
    /// <returns>dL/dx, and per pair Σg (the bias gradient's terms) and Σg·x̂ (the weight gradient's terms).</returns>
    public static (Tensor GradInput, Tensor GradSum, Tensor GradDotNormalized) Backward(Tensor grad, Tensor rows,
        Tensor mean, Tensor invstd, Tensor? weight, GhostBatchLayout layout)
    {
        CheckRows(rows, layout);
        CheckShape(grad, rows.shape, nameof(grad));
        CheckShape(mean, PerPairShape(rows, layout), nameof(mean));
        CheckShape(invstd, PerPairShape(rows, layout), nameof(invstd));
        CheckShape(weight, [rows.shape[1]], nameof(weight));
        var gradInput = empty(rows.shape, rows.dtype);
        var gradSum = empty(mean.shape, rows.dtype);
        var gradDotNormalized = empty(mean.shape, rows.dtype);
        using var scope = NewDisposeScope();
        (grad, rows, mean, invstd) = (As(grad, rows), rows.contiguous(), As(mean, rows), As(invstd, rows));
        weight = WeightOrOnes(weight, rows);
        var pairs = (Data(mean), Data(invstd), Data(weight), Data(gradSum), Data(gradDotNormalized));
        if (rows.dtype == ScalarType.Float32)
        {
            Backward<float>(new GhostCpuLoops(rows, layout, ValuesPerWorkItem), Data(grad), Data(rows), pairs, Data(gradInput));
        }
        else
        {
            Backward<double>(new GhostCpuLoops(rows, layout, ValuesPerWorkItem), Data(grad), Data(rows), pairs, Data(gradInput));
        }

        return (gradInput, gradSum, gradDotNormalized);
    }

    private static void Moments<T>(GhostCpuLoops loops, nint rows, nint mean, nint variance, T limit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        loops.ForEachWorkItem([MethodImpl(MethodImplOptions.AggressiveOptimization)] (item) =>
        {
            var length = Padded<T>(item.Channels);
            Span<T> shifts = stackalloc T[length];
            Span<T> sums = stackalloc T[length];
            Span<T> squareSums = stackalloc T[length];
            var means = item.PairsToWrite((T*)mean, stackalloc T[length]);
            var variances = item.PairsToWrite((T*)variance, stackalloc T[length]);
            loops.FirstValues(item, (T*)rows, shifts);
            loops.Sums(item, (T*)rows, shifts, (T*)rows, shifts, sums, squareSums);
            if (ShiftedMoments(item, shifts, sums, squareSums, means, variances, limit))
            {
                loops.Sums(item, (T*)rows, means, (T*)rows, means, sums, squareSums);
                ShiftedMoments(item, means, sums, squareSums, means, variances, limit);
            }

            item.Store(means, (T*)mean);
            item.Store(variances, (T*)variance);
        });
    }

    /// <summary>
    /// Means and variances from the sums around <paramref name="shifts"/>; true when some pair's mean lies so far from
    /// its shift that the variance must be summed again around the mean.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ShiftedMoments<T>(GhostCpuWorkItem item, ReadOnlySpan<T> shifts, ReadOnlySpan<T> sums,
        ReadOnlySpan<T> squareSums, Span<T> means, Span<T> variances, T limit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var perValue = new Vector<T>(T.One / T.CreateTruncating(item.Values));
        var limits = new Vector<T>(limit);
        var resum = false;
        for (var i = 0; i < means.Length; i += Vector<T>.Count)
        {
            var meanOffset = new Vector<T>(sums[i..]) * perValue;
            var variance = Vector.Max(new Vector<T>(squareSums[i..]) * perValue - meanOffset * meanOffset, Vector<T>.Zero);
            resum |= Vector.GreaterThanAny(meanOffset * meanOffset, variance * limits);
            (new Vector<T>(shifts[i..]) + meanOffset).CopyTo(means[i..]);
            variance.CopyTo(variances[i..]);
        }

        return resum;
    }

    private static void Normalize<T>(GhostCpuLoops loops, nint rows, (nint Mean, nint Invstd, nint Weight, nint Bias) pairs, nint output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        loops.ForEachWorkItem([MethodImpl(MethodImplOptions.AggressiveOptimization)] (item) =>
        {
            var length = Padded<T>(item.Channels);
            var means = item.Pairs((T*)pairs.Mean, stackalloc T[length]);
            var invstds = item.Pairs((T*)pairs.Invstd, stackalloc T[length]);
            var weights = item.ChannelValues((T*)pairs.Weight, stackalloc T[length]);
            var biases = item.ChannelValues((T*)pairs.Bias, stackalloc T[length]);
            Span<T> scales = stackalloc T[length];
            Span<T> shifts = stackalloc T[length];
            Span<T> zeros = stackalloc T[length];
            zeros.Clear();
            for (var i = 0; i < length; i += Vector<T>.Count)
            {
                var scale = new Vector<T>(invstds[i..]) * new Vector<T>(weights[i..]);
                scale.CopyTo(scales[i..]);
                (new Vector<T>(biases[i..]) - new Vector<T>(means[i..]) * scale).CopyTo(shifts[i..]);
            }

            loops.Combine(item, (T*)rows, scales, (T*)rows, zeros, shifts, (T*)output);
        });
    }

    private static void Backward<T>(GhostCpuLoops loops, nint grad, nint rows,
        (nint Mean, nint Invstd, nint Weight, nint GradSum, nint GradDotNormalized) pairs, nint gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        loops.ForEachWorkItem([MethodImpl(MethodImplOptions.AggressiveOptimization)] (item) =>
        {
            var length = Padded<T>(item.Channels);
            Span<T> zeros = stackalloc T[length];
            zeros.Clear();
            var means = item.Pairs((T*)pairs.Mean, stackalloc T[length]);
            var invstds = item.Pairs((T*)pairs.Invstd, stackalloc T[length]);
            var gradSums = item.PairsToWrite((T*)pairs.GradSum, stackalloc T[length]);
            var gradDotNormalized = item.PairsToWrite((T*)pairs.GradDotNormalized, stackalloc T[length]);
            loops.Sums(item, (T*)grad, zeros, (T*)rows, means, gradSums, gradDotNormalized);
            // Σg·(x − mean) becomes Σg·x̂ in place.
            for (var i = 0; i < length; i += Vector<T>.Count)
            {
                (new Vector<T>(gradDotNormalized[i..]) * new Vector<T>(invstds[i..])).CopyTo(gradDotNormalized[i..]);
            }

            item.Store(gradSums, (T*)pairs.GradSum);
            item.Store(gradDotNormalized, (T*)pairs.GradDotNormalized);
        });
        loops.ForEachWorkItem([MethodImpl(MethodImplOptions.AggressiveOptimization)] (item) =>
        {
            var length = Padded<T>(item.Channels);
            var means = item.Pairs((T*)pairs.Mean, stackalloc T[length]);
            var invstds = item.Pairs((T*)pairs.Invstd, stackalloc T[length]);
            var weights = item.ChannelValues((T*)pairs.Weight, stackalloc T[length]);
            var gradSums = item.Pairs((T*)pairs.GradSum, stackalloc T[length]);
            var gradDotNormalized = item.Pairs((T*)pairs.GradDotNormalized, stackalloc T[length]);
            Span<T> a = stackalloc T[length];
            Span<T> b = stackalloc T[length];
            Span<T> c = stackalloc T[length];
            var perValue = new Vector<T>(T.One / T.CreateTruncating(item.Values));
            for (var i = 0; i < length; i += Vector<T>.Count)
            {
                var invstd = new Vector<T>(invstds[i..]);
                var gradScale = invstd * new Vector<T>(weights[i..]);
                var inputScale = -gradScale * invstd * new Vector<T>(gradDotNormalized[i..]) * perValue;
                gradScale.CopyTo(a[i..]);
                inputScale.CopyTo(b[i..]);
                (-gradScale * new Vector<T>(gradSums[i..]) * perValue - inputScale * new Vector<T>(means[i..])).CopyTo(c[i..]);
            }

            loops.Combine(item, (T*)grad, a, (T*)rows, b, c, (T*)gradInput);
        });
    }

    /// <exception cref="ArgumentException">The rows are not <c>[N, C, S]</c> or the layout does not cut exactly N samples.</exception>
    private static void CheckRows(Tensor rows, GhostBatchLayout layout)
    {
        if (rows.ndim != 3)
        {
            throw new ArgumentException($"Expected rows of shape [N, C, S]; got [{string.Join(", ", rows.shape)}].", nameof(rows));
        }

        var last = layout.Count - 1;
        if (layout.Start(last) + layout.Size(last) != rows.shape[0])
        {
            throw new ArgumentException(
                $"The ghost batch layout covers {layout.Start(last) + layout.Size(last)} samples; the rows hold {rows.shape[0]}.",
                nameof(layout));
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

    private static Tensor WeightOrOnes(Tensor? weight, Tensor rows) =>
        weight is null ? ones(rows.shape[1], rows.dtype) : As(weight, rows);

    private static Tensor BiasOrZeros(Tensor? bias, Tensor rows) =>
        bias is null ? zeros(rows.shape[1], rows.dtype) : As(bias, rows);

    /// <summary><paramref name="tensor"/> detached, contiguous and of the element type of <paramref name="rows"/>.</summary>
    private static Tensor As(Tensor tensor, Tensor rows) => tensor.detach().to_type(rows.dtype).contiguous();

    private static nint Data(Tensor tensor)
    {
        fixed (byte* data = tensor.bytes)
        {
            // Torch owns the memory and the caller keeps the tensor alive, so the address stays valid after the block.
            return (nint)data;
        }
    }
}
