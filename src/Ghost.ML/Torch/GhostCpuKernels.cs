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
/// Work is cut into (ghost batch, block of channels) items of about <see cref="ValuesPerWorkItem"/> values per
/// sample and spread over <c>torch.get_num_threads()</c> threads. Rows shorter than the vector width (e.g. <c>[N, C]</c>
/// input) are vectorised across channels instead of along the row. Per-pair tensors are <c>[ghost batches, C]</c> in
/// the element type of the rows. The loops are compiled fully optimised on first use: at tier 0 the vector operations
/// are calls, several times slower, and a training run would pay that until tiering caught up. Scratch spans are not
/// zeroed (<see cref="SkipLocalsInitAttribute"/>): only their first <c>Channels</c> values are ever stored, and the loops
/// clear what they read beyond that.
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
        var mean = empty(layout.Count, rows.shape[1], rows.dtype);
        var variance = empty(layout.Count, rows.shape[1], rows.dtype);
        using var scope = NewDisposeScope();
        rows = rows.contiguous();
        var limit = GhostMoments.OnePassLimit(rows.dtype);
        if (rows.dtype == ScalarType.Float32)
        {
            Moments(new Geometry(rows, layout), Data(rows), Data(mean), Data(variance), (float)limit);
        }
        else
        {
            Moments(new Geometry(rows, layout), Data(rows), Data(mean), Data(variance), limit);
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
        var output = empty(rows.shape, rows.dtype);
        using var scope = NewDisposeScope();
        (rows, mean, invstd) = (rows.contiguous(), As(mean, rows), As(invstd, rows));
        (weight, bias) = (WeightOrOnes(weight, rows), BiasOrZeros(bias, rows));
        var pairs = (Data(mean), Data(invstd), Data(weight), Data(bias));
        if (rows.dtype == ScalarType.Float32)
        {
            Normalize<float>(new Geometry(rows, layout), Data(rows), pairs, Data(output));
        }
        else
        {
            Normalize<double>(new Geometry(rows, layout), Data(rows), pairs, Data(output));
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
        var gradInput = empty(rows.shape, rows.dtype);
        var gradSum = empty(mean.shape, rows.dtype);
        var gradDotNormalized = empty(mean.shape, rows.dtype);
        using var scope = NewDisposeScope();
        (grad, rows, mean, invstd) = (As(grad, rows), rows.contiguous(), As(mean, rows), As(invstd, rows));
        weight = WeightOrOnes(weight, rows);
        var pairs = (Data(mean), Data(invstd), Data(weight), Data(gradSum), Data(gradDotNormalized));
        if (rows.dtype == ScalarType.Float32)
        {
            Backward<float>(new Geometry(rows, layout), Data(grad), Data(rows), pairs, Data(gradInput));
        }
        else
        {
            Backward<double>(new Geometry(rows, layout), Data(grad), Data(rows), pairs, Data(gradInput));
        }

        return (gradInput, gradSum, gradDotNormalized);
    }

    private static void Moments<T>(Geometry geometry, nint rows, nint mean, nint variance, T limit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        geometry.ForEachWorkItem([MethodImpl(MethodImplOptions.AggressiveOptimization)] (item) =>
        {
            var length = Padded<T>(item.Channels);
            Span<T> shifts = stackalloc T[length];
            Span<T> sums = stackalloc T[length];
            Span<T> squareSums = stackalloc T[length];
            Span<T> means = stackalloc T[length];
            Span<T> variances = stackalloc T[length];
            geometry.FirstValues(item, (T*)rows, shifts);
            geometry.Sums(item, (T*)rows, shifts, (T*)rows, shifts, sums, squareSums);
            if (ShiftedMoments(item, shifts, sums, squareSums, means, variances, limit))
            {
                geometry.Sums(item, (T*)rows, means, (T*)rows, means, sums, squareSums);
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
    private static bool ShiftedMoments<T>(WorkItem item, ReadOnlySpan<T> shifts, ReadOnlySpan<T> sums,
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

    private static void Normalize<T>(Geometry geometry, nint rows, (nint Mean, nint Invstd, nint Weight, nint Bias) pairs, nint output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        geometry.ForEachWorkItem([MethodImpl(MethodImplOptions.AggressiveOptimization)] (item) =>
        {
            var length = Padded<T>(item.Channels);
            Span<T> means = stackalloc T[length];
            Span<T> invstds = stackalloc T[length];
            Span<T> weights = stackalloc T[length];
            Span<T> biases = stackalloc T[length];
            Span<T> scales = stackalloc T[length];
            Span<T> shifts = stackalloc T[length];
            Span<T> zeros = stackalloc T[length];
            zeros.Clear();
            item.LoadPairs((T*)pairs.Mean, means);
            item.LoadPairs((T*)pairs.Invstd, invstds);
            item.LoadChannels((T*)pairs.Weight, weights);
            item.LoadChannels((T*)pairs.Bias, biases);
            for (var i = 0; i < length; i += Vector<T>.Count)
            {
                var scale = new Vector<T>(invstds[i..]) * new Vector<T>(weights[i..]);
                scale.CopyTo(scales[i..]);
                (new Vector<T>(biases[i..]) - new Vector<T>(means[i..]) * scale).CopyTo(shifts[i..]);
            }

            geometry.Combine(item, (T*)rows, scales, (T*)rows, zeros, shifts, (T*)output);
        });
    }

    private static void Backward<T>(Geometry geometry, nint grad, nint rows,
        (nint Mean, nint Invstd, nint Weight, nint GradSum, nint GradDotNormalized) pairs, nint gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        geometry.ForEachWorkItem([MethodImpl(MethodImplOptions.AggressiveOptimization)] (item) =>
        {
            var length = Padded<T>(item.Channels);
            Span<T> zeros = stackalloc T[length];
            Span<T> means = stackalloc T[length];
            Span<T> invstds = stackalloc T[length];
            Span<T> gradSums = stackalloc T[length];
            Span<T> gradDotCentered = stackalloc T[length];
            zeros.Clear();
            item.LoadPairs((T*)pairs.Mean, means);
            item.LoadPairs((T*)pairs.Invstd, invstds);
            geometry.Sums(item, (T*)grad, zeros, (T*)rows, means, gradSums, gradDotCentered);
            for (var i = 0; i < length; i += Vector<T>.Count)
            {
                (new Vector<T>(gradDotCentered[i..]) * new Vector<T>(invstds[i..])).CopyTo(gradDotCentered[i..]);
            }

            item.Store(gradSums, (T*)pairs.GradSum);
            item.Store(gradDotCentered, (T*)pairs.GradDotNormalized);
        });
        geometry.ForEachWorkItem([MethodImpl(MethodImplOptions.AggressiveOptimization)] (item) =>
        {
            var length = Padded<T>(item.Channels);
            Span<T> means = stackalloc T[length];
            Span<T> invstds = stackalloc T[length];
            Span<T> weights = stackalloc T[length];
            Span<T> gradSums = stackalloc T[length];
            Span<T> gradDotNormalized = stackalloc T[length];
            Span<T> a = stackalloc T[length];
            Span<T> b = stackalloc T[length];
            Span<T> c = stackalloc T[length];
            item.LoadPairs((T*)pairs.Mean, means);
            item.LoadPairs((T*)pairs.Invstd, invstds);
            item.LoadChannels((T*)pairs.Weight, weights);
            item.LoadPairs((T*)pairs.GradSum, gradSums);
            item.LoadPairs((T*)pairs.GradDotNormalized, gradDotNormalized);
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

            geometry.Combine(item, (T*)grad, a, (T*)rows, b, c, (T*)gradInput);
        });
    }

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

    /// <summary>One (ghost batch, block of channels) work item.</summary>
    private readonly record struct WorkItem(int Ghost, int FirstChannel, int Channels, long Start, long End, long Values, long ChannelCount)
    {
        /// <summary>Index of the <paramref name="i"/>-th channel's (ghost batch, channel) pair.</summary>
        public long Pair(int i) => Ghost * ChannelCount + FirstChannel + i;

        /// <summary>Copies the item's values of a per-pair tensor into the start of <paramref name="destination"/>.</summary>
        public void LoadPairs<T>(T* perPair, Span<T> destination) where T : unmanaged =>
            new ReadOnlySpan<T>(perPair + Pair(0), Channels).CopyTo(destination);

        /// <summary>Copies the item's values of a per-channel tensor into the start of <paramref name="destination"/>.</summary>
        public void LoadChannels<T>(T* perChannel, Span<T> destination) where T : unmanaged =>
            new ReadOnlySpan<T>(perChannel + FirstChannel, Channels).CopyTo(destination);

        /// <summary>Writes the item's values (the start of <paramref name="source"/>) into a per-pair tensor.</summary>
        public void Store<T>(ReadOnlySpan<T> source, T* perPair) where T : unmanaged =>
            source[..Channels].CopyTo(new Span<T>(perPair + Pair(0), Channels));
    }

    /// <summary>The shape of the rows, the cut into ghost batches and the loops over it.</summary>
    private readonly struct Geometry(Tensor rows, GhostBatchLayout layout)
    {
        private readonly long _channels = rows.shape[1];
        private readonly long _valuesPerRow = rows.shape[2];
        private readonly GhostBatchLayout _layout = layout;

        public long Pairs => _layout.Count * _channels;

        public long RowOffset(long sample, int channel) => (sample * _channels + channel) * _valuesPerRow;

        /// <summary>Runs <paramref name="body"/> on every work item, in parallel over torch's thread count.</summary>
        public void ForEachWorkItem(Action<WorkItem> body)
        {
            var (channels, valuesPerRow, layout) = (_channels, _valuesPerRow, _layout);
            var blockWidth = (int)Math.Clamp(ValuesPerWorkItem / valuesPerRow, 1, channels);
            var blocks = (int)((channels + blockWidth - 1) / blockWidth);
            var items = layout.Count * blocks;
            void Run(int index)
            {
                var ghost = index / blocks;
                var firstChannel = index % blocks * blockWidth;
                var start = layout.Start(ghost);
                var size = layout.Size(ghost);
                body(new WorkItem(ghost, firstChannel, (int)Math.Min(blockWidth, channels - firstChannel), start, start + size,
                    size * valuesPerRow, channels));
            }

            var threads = get_num_threads();
            if (threads <= 1 || items == 1)
            {
                for (var index = 0; index < items; index++)
                {
                    Run(index);
                }
            }
            else
            {
                Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = threads }, Run);
            }
        }

        /// <summary>The first value of each of the item's pairs: <c>rows[start of ghost batch, channel, 0]</c>.</summary>
        public void FirstValues<T>(WorkItem item, T* rows, Span<T> firstValues) where T : unmanaged
        {
            firstValues.Clear();
            if (_valuesPerRow == 1)
            {
                new ReadOnlySpan<T>(rows + RowOffset(item.Start, item.FirstChannel), item.Channels).CopyTo(firstValues);
                return;
            }

            for (var i = 0; i < item.Channels; i++)
            {
                firstValues[i] = rows[RowOffset(item.Start, item.FirstChannel + i)];
            }
        }

        /// <summary>
        /// Σ(u − p) and Σ(u − p)(v − q) of every pair of the item, into the start of <paramref name="sums"/> and
        /// <paramref name="productSums"/> (the rest is cleared); p and q are indexed by channel in the item.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Sums<T>(WorkItem item, T* u, ReadOnlySpan<T> p, T* v, ReadOnlySpan<T> q, Span<T> sums, Span<T> productSums)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var width = Vector<T>.Count;
            sums.Clear();
            productSums.Clear();
            if (_valuesPerRow == 1)
            {
                // One value per row: vectorised across the item's channels, which are contiguous in each sample; each
                // vector of channels is summed over the ghost batch in registers.
                fixed (T* pAt = p, qAt = q, sumAt = sums, productAt = productSums)
                {
                    T* u0 = u + RowOffset(item.Start, item.FirstChannel), v0 = v + RowOffset(item.Start, item.FirstChannel);
                    var stride = _channels;
                    var i = 0;
                    for (; i + width <= item.Channels; i += width)
                    {
                        var (pVector, qVector) = (Vector.Load(pAt + i), Vector.Load(qAt + i));
                        var (sumVector, productVector) = (Vector<T>.Zero, Vector<T>.Zero);
                        for (long sample = 0, end = item.End - item.Start; sample < end; sample++)
                        {
                            var du = Vector.Load(u0 + sample * stride + i) - pVector;
                            sumVector += du;
                            productVector += du * (Vector.Load(v0 + sample * stride + i) - qVector);
                        }

                        Vector.Store(sumVector, sumAt + i);
                        Vector.Store(productVector, productAt + i);
                    }

                    for (; i < item.Channels; i++)
                    {
                        for (long sample = 0, end = item.End - item.Start; sample < end; sample++)
                        {
                            var du = u0[sample * stride + i] - pAt[i];
                            sumAt[i] += du;
                            productAt[i] += du * (v0[sample * stride + i] - qAt[i]);
                        }
                    }
                }

                return;
            }

            for (var i = 0; i < item.Channels; i++)
            {
                var (pScalar, qScalar) = (p[i], q[i]);
                var (pVector, qVector) = (new Vector<T>(pScalar), new Vector<T>(qScalar));
                double sum = 0, productSum = 0;
                for (var sample = item.Start; sample < item.End; sample++)
                {
                    var offset = RowOffset(sample, item.FirstChannel + i);
                    T* uRow = u + offset, vRow = v + offset;
                    var (sumVector, productVector) = (Vector<T>.Zero, Vector<T>.Zero);
                    long k = 0;
                    for (; k + width <= _valuesPerRow; k += width)
                    {
                        var du = Vector.Load(uRow + k) - pVector;
                        sumVector += du;
                        productVector += du * (Vector.Load(vRow + k) - qVector);
                    }

                    T rowSum = Vector.Sum(sumVector), rowProductSum = Vector.Sum(productVector);
                    for (; k < _valuesPerRow; k++)
                    {
                        var du = uRow[k] - pScalar;
                        rowSum += du;
                        rowProductSum += du * (vRow[k] - qScalar);
                    }

                    // Rows are added up in double, so long ghost batches lose no precision.
                    sum += double.CreateTruncating(rowSum);
                    productSum += double.CreateTruncating(rowProductSum);
                }

                sums[i] = T.CreateTruncating(sum);
                productSums[i] = T.CreateTruncating(productSum);
            }
        }

        /// <summary>output = a·u + b·v + c over every pair of the item; a, b, c are indexed by channel in the item.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Combine<T>(WorkItem item, T* u, ReadOnlySpan<T> a, T* v, ReadOnlySpan<T> b, ReadOnlySpan<T> c, T* output)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var width = Vector<T>.Count;
            if (_valuesPerRow == 1)
            {
                fixed (T* aAt = a, bAt = b, cAt = c)
                {
                    for (var sample = item.Start; sample < item.End; sample++)
                    {
                        var offset = RowOffset(sample, item.FirstChannel);
                        T* uAt = u + offset, vAt = v + offset, outputAt = output + offset;
                        var i = 0;
                        for (; i + width <= item.Channels; i += width)
                        {
                            Vector.Store(Vector.Load(aAt + i) * Vector.Load(uAt + i) + Vector.Load(bAt + i) * Vector.Load(vAt + i)
                                + Vector.Load(cAt + i), outputAt + i);
                        }

                        for (; i < item.Channels; i++)
                        {
                            outputAt[i] = aAt[i] * uAt[i] + bAt[i] * vAt[i] + cAt[i];
                        }
                    }
                }

                return;
            }

            for (var i = 0; i < item.Channels; i++)
            {
                var (aScalar, bScalar, cScalar) = (a[i], b[i], c[i]);
                var (aVector, bVector, cVector) = (new Vector<T>(aScalar), new Vector<T>(bScalar), new Vector<T>(cScalar));
                for (var sample = item.Start; sample < item.End; sample++)
                {
                    var offset = RowOffset(sample, item.FirstChannel + i);
                    T* uRow = u + offset, vRow = v + offset, outputRow = output + offset;
                    long k = 0;
                    for (; k + width <= _valuesPerRow; k += width)
                    {
                        Vector.Store(aVector * Vector.Load(uRow + k) + bVector * Vector.Load(vRow + k) + cVector, outputRow + k);
                    }

                    for (; k < _valuesPerRow; k++)
                    {
                        outputRow[k] = aScalar * uRow[k] + bScalar * vRow[k] + cScalar;
                    }
                }
            }
        }
    }
}
