using System.Numerics;
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
/// the element type of the rows.
/// </remarks>
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
            Moments<float>(new Geometry(rows, layout), Data(rows), Data(mean), Data(variance), limit);
        }
        else
        {
            Moments<double>(new Geometry(rows, layout), Data(rows), Data(mean), Data(variance), limit);
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
        (rows, mean, invstd, weight, bias) = (rows.contiguous(), As(mean, rows), As(invstd, rows), AsOptional(weight, rows), AsOptional(bias, rows));
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
        (grad, rows, mean, invstd, weight) = (As(grad, rows), rows.contiguous(), As(mean, rows), As(invstd, rows), AsOptional(weight, rows));
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

    private static void Moments<T>(Geometry geometry, nint rows, nint mean, nint variance, double limit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        geometry.ForEachWorkItem(item =>
        {
            var x = (T*)rows;
            Span<T> shifts = stackalloc T[item.Channels];
            Span<double> sums = stackalloc double[item.Channels];
            Span<double> squareSums = stackalloc double[item.Channels];
            for (var i = 0; i < item.Channels; i++)
            {
                shifts[i] = x[geometry.RowOffset(item.Start, item.FirstChannel + i)];
            }

            geometry.Sums<T>(item, x, shifts, x, shifts, sums, squareSums);
            var resum = false;
            for (var i = 0; i < item.Channels; i++)
            {
                var meanOffset = sums[i] / item.Values;
                var pairVariance = Math.Max(0, squareSums[i] / item.Values - meanOffset * meanOffset);
                resum |= meanOffset * meanOffset > pairVariance * limit;
                ((T*)mean)[item.Pair(i)] = T.CreateTruncating(double.CreateTruncating(shifts[i]) + meanOffset);
                ((T*)variance)[item.Pair(i)] = T.CreateTruncating(pairVariance);
            }

            if (resum)
            {
                var means = new ReadOnlySpan<T>((T*)mean + item.Pair(0), item.Channels);
                geometry.Sums<T>(item, x, means, x, means, sums, squareSums);
                for (var i = 0; i < item.Channels; i++)
                {
                    var meanOffset = sums[i] / item.Values;
                    ((T*)variance)[item.Pair(i)] = T.CreateTruncating(Math.Max(0, squareSums[i] / item.Values - meanOffset * meanOffset));
                }
            }
        });
    }

    private static void Normalize<T>(Geometry geometry, nint rows, (nint Mean, nint Invstd, nint Weight, nint Bias) pairs, nint output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        geometry.ForEachWorkItem(item =>
        {
            Span<T> scales = stackalloc T[item.Channels];
            Span<T> zeros = stackalloc T[item.Channels];
            Span<T> shifts = stackalloc T[item.Channels];
            zeros.Clear();
            for (var i = 0; i < item.Channels; i++)
            {
                var channel = item.FirstChannel + i;
                var scale = ((T*)pairs.Invstd)[item.Pair(i)] * (pairs.Weight == 0 ? T.One : ((T*)pairs.Weight)[channel]);
                scales[i] = scale;
                shifts[i] = (pairs.Bias == 0 ? T.Zero : ((T*)pairs.Bias)[channel]) - ((T*)pairs.Mean)[item.Pair(i)] * scale;
            }

            geometry.Combine<T>(item, (T*)rows, scales, (T*)rows, zeros, shifts, (T*)output);
        });
    }

    private static void Backward<T>(Geometry geometry, nint grad, nint rows,
        (nint Mean, nint Invstd, nint Weight, nint GradSum, nint GradDotNormalized) pairs, nint gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gradSums = new double[geometry.Pairs];
        var gradDotCentered = new double[geometry.Pairs];
        geometry.ForEachWorkItem(item =>
        {
            Span<T> zeros = stackalloc T[item.Channels];
            zeros.Clear();
            var means = new ReadOnlySpan<T>((T*)pairs.Mean + item.Pair(0), item.Channels);
            geometry.Sums<T>(item, (T*)grad, zeros, (T*)rows, means,
                gradSums.AsSpan((int)item.Pair(0), item.Channels), gradDotCentered.AsSpan((int)item.Pair(0), item.Channels));
        });
        geometry.ForEachWorkItem(item =>
        {
            Span<T> a = stackalloc T[item.Channels];
            Span<T> b = stackalloc T[item.Channels];
            Span<T> c = stackalloc T[item.Channels];
            for (var i = 0; i < item.Channels; i++)
            {
                var pair = item.Pair(i);
                var mean = double.CreateTruncating(((T*)pairs.Mean)[pair]);
                var invstd = double.CreateTruncating(((T*)pairs.Invstd)[pair]);
                var weight = pairs.Weight == 0 ? 1.0 : double.CreateTruncating(((T*)pairs.Weight)[item.FirstChannel + i]);
                var dotNormalized = gradDotCentered[pair] * invstd;
                var scale = invstd * weight;
                var inputScale = -scale * invstd * dotNormalized / item.Values;
                a[i] = T.CreateTruncating(scale);
                b[i] = T.CreateTruncating(inputScale);
                c[i] = T.CreateTruncating(-scale * gradSums[pair] / item.Values - inputScale * mean);
                ((T*)pairs.GradSum)[pair] = T.CreateTruncating(gradSums[pair]);
                ((T*)pairs.GradDotNormalized)[pair] = T.CreateTruncating(dotNormalized);
            }

            geometry.Combine<T>(item, (T*)grad, a, (T*)rows, b, c, (T*)gradInput);
        });
    }

    /// <summary><paramref name="tensor"/> detached, contiguous and of the element type of <paramref name="rows"/>.</summary>
    private static Tensor As(Tensor tensor, Tensor rows) => tensor.detach().to_type(rows.dtype).contiguous();

    private static Tensor? AsOptional(Tensor? tensor, Tensor rows) => tensor is null ? null : As(tensor, rows);

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

    /// <summary>One (ghost batch, block of channels) work item.</summary>
    private readonly record struct WorkItem(int Ghost, int FirstChannel, int Channels, long Start, long End, long Values, long ChannelCount)
    {
        /// <summary>Index of the <paramref name="i"/>-th channel's (ghost batch, channel) pair.</summary>
        public long Pair(int i) => Ghost * ChannelCount + FirstChannel + i;
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

        /// <summary>Σ(u − p) and Σ(u − p)(v − q) of every pair of the item; p and q are indexed by channel in the item.</summary>
        public void Sums<T>(WorkItem item, T* u, ReadOnlySpan<T> p, T* v, ReadOnlySpan<T> q, Span<double> sums,
            Span<double> productSums)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var width = Vector<T>.Count;
            if (_valuesPerRow == 1)
            {
                // One value per row: vectorised across the item's channels, which are contiguous in each sample.
                Span<T> sumAccumulator = stackalloc T[item.Channels];
                Span<T> productAccumulator = stackalloc T[item.Channels];
                sumAccumulator.Clear();
                productAccumulator.Clear();
                fixed (T* pAt = p, qAt = q, sumAt = sumAccumulator, productAt = productAccumulator)
                {
                    for (var sample = item.Start; sample < item.End; sample++)
                    {
                        T* uAt = u + RowOffset(sample, item.FirstChannel), vAt = v + RowOffset(sample, item.FirstChannel);
                        var i = 0;
                        for (; i + width <= item.Channels; i += width)
                        {
                            var du = Vector.Load(uAt + i) - Vector.Load(pAt + i);
                            Vector.Store(Vector.Load(sumAt + i) + du, sumAt + i);
                            Vector.Store(Vector.Load(productAt + i) + du * (Vector.Load(vAt + i) - Vector.Load(qAt + i)), productAt + i);
                        }

                        for (; i < item.Channels; i++)
                        {
                            var du = uAt[i] - pAt[i];
                            sumAt[i] += du;
                            productAt[i] += du * (vAt[i] - qAt[i]);
                        }
                    }
                }

                for (var i = 0; i < item.Channels; i++)
                {
                    sums[i] = double.CreateTruncating(sumAccumulator[i]);
                    productSums[i] = double.CreateTruncating(productAccumulator[i]);
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

                sums[i] = sum;
                productSums[i] = productSum;
            }
        }

        /// <summary>output = a·u + b·v + c over every pair of the item; a, b, c are indexed by channel in the item.</summary>
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
