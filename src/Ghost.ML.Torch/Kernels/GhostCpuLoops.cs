using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// One work item of <see cref="GhostCpuLoops"/>: one ghost batch and a block of consecutive channels.
/// </summary>
/// <param name="Ghost">Index of the ghost batch.</param>
/// <param name="FirstChannel">First channel of the block.</param>
/// <param name="Channels">Channels in the block.</param>
/// <param name="Start">First sample of the ghost batch.</param>
/// <param name="End">One past the last sample of the ghost batch.</param>
/// <param name="Values">Values per channel in the ghost batch (samples × S).</param>
/// <param name="TotalChannels">Channels C of the input.</param>
internal readonly unsafe record struct GhostCpuWorkItem(int Ghost, int FirstChannel, int Channels, long Start, long End,
    long Values, long TotalChannels)
{
    /// <summary>Index of the <paramref name="i"/>-th channel's (ghost batch, channel) pair in a per-pair tensor.</summary>
    public long Pair(int i) => Ghost * TotalChannels + FirstChannel + i;

    /// <summary>
    /// The item's values of a per-pair tensor: the tensor's own memory when they fill whole vectors, else a copy in
    /// <paramref name="scratch"/> (as long as the values rounded up to whole vectors).
    /// </summary>
    public ReadOnlySpan<T> Pairs<T>(T* perPair, Span<T> scratch) where T : unmanaged =>
        Read(new ReadOnlySpan<T>(perPair + Pair(0), Channels), scratch);

    /// <summary>
    /// The item's values of a per-channel tensor, as <see cref="Pairs"/> gives those of a per-pair one, or
    /// <paramref name="scratch"/> filled with <paramref name="missing"/> when there is no tensor (a null pointer).
    /// </summary>
    public ReadOnlySpan<T> ChannelValues<T>(T* perChannel, T missing, Span<T> scratch) where T : unmanaged
    {
        if (perChannel == null)
        {
            scratch.Fill(missing);
            return scratch;
        }

        return Read(new ReadOnlySpan<T>(perChannel + FirstChannel, Channels), scratch);
    }

    /// <summary>
    /// Where to compute the item's values of a per-pair output: the tensor's own memory when they fill whole vectors,
    /// else <paramref name="scratch"/>, which <see cref="Store"/> then copies out.
    /// </summary>
    public Span<T> PairsToWrite<T>(T* perPair, Span<T> scratch) where T : unmanaged =>
        scratch.Length == Channels ? new Span<T>(perPair + Pair(0), Channels) : scratch;

    /// <summary>Writes the item's values (the start of <paramref name="source"/>) into a per-pair tensor, unless they are already there.</summary>
    public void Store<T>(ReadOnlySpan<T> source, T* perPair) where T : unmanaged
    {
        var destination = new Span<T>(perPair + Pair(0), Channels);
        if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(source), ref MemoryMarshal.GetReference(destination)))
        {
            source[..Channels].CopyTo(destination);
        }
    }

    private ReadOnlySpan<T> Read<T>(ReadOnlySpan<T> values, Span<T> scratch) where T : unmanaged
    {
        if (scratch.Length == Channels)
        {
            return values;
        }

        values.CopyTo(scratch);
        return scratch;
    }
}

/// <summary>
/// The loops of <see cref="GhostCpuKernels"/> over a contiguous batch seen as rows <c>[N, C, S]</c>: its cut into
/// (ghost batch, block of channels) work items, run in parallel, and the two passes every kernel is made of, a pair of
/// sums and a per-pair linear map. Rows of one value (<c>[N, C]</c> input) are vectorised across channels; longer rows
/// along the row, with a scalar remainder.
/// </summary>
/// <param name="rows">The batch as <c>[N, C, S]</c>.</param>
/// <param name="layout">How the batch is cut into ghost batches.</param>
/// <param name="valuesPerWorkItem">About how many values of one sample a work item covers.</param>
internal readonly unsafe struct GhostCpuLoops(Tensor rows, GhostBatchLayout layout, long valuesPerWorkItem)
{
    /// <summary>
    /// Vectors added up in the element type before the lane sums move into double: float32 lanes stay exact to about
    /// 1e-7 relative over this many additions, and rows of a million values keep BatchNorm's precision.
    /// </summary>
    private const int VectorsPerDoubleFlush = 256;

    /// <summary>
    /// Values below which a loop runs on the calling thread alone: waking a second thread costs more than it saves.
    /// libtorch's own parallel operators use the same grain size.
    /// </summary>
    private const long ParallelGrainSize = 32768;

    /// <summary>Rows of one value read together before the running sums go back to memory.</summary>
    private const int SamplesPerBlock = 8;

    /// <summary>Slots when there are enough work items: two per thread up to eight threads keeps them balanced.</summary>
    private const int MinSlots = 16;

    private readonly long _channels = rows.shape[1];
    private readonly long _valuesPerRow = rows.shape[2];
    private readonly GhostBatchLayout _layout = layout;
    private readonly long _valuesPerWorkItem = valuesPerWorkItem;

    /// <summary>Channels C of the batch.</summary>
    public long Channels => _channels;

    /// <summary>Offset of row (<paramref name="sample"/>, <paramref name="channel"/>) from the start of the data.</summary>
    public long RowOffset(long sample, int channel) => (sample * _channels + channel) * _valuesPerRow;

    /// <summary>
    /// How many slots the work items are dealt into: each slot is a run of consecutive items done in order by one
    /// thread, so per-slot partial sums need no locking. The count depends on the shape and, beyond eight threads, on
    /// the thread count, so sums over slots come out the same bit for bit for any number of threads up to eight.
    /// </summary>
    public int Slots
    {
        get
        {
            var (_, _, items) = Blocks();
            return Math.Min(items, Math.Max(MinSlots, 2 * get_num_threads()));
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> on every work item with the index of its slot (below <see cref="Slots"/>), in
    /// parallel over torch's thread count: on libtorch's OpenMP threads where <see cref="OpenMPParallel"/> finds them,
    /// else on .NET's thread pool.
    /// </summary>
    public void ForEachWorkItem(Action<GhostCpuWorkItem, int> body)
    {
        var (channels, valuesPerRow, layout) = (_channels, _valuesPerRow, _layout);
        var (blockWidth, blocks, items) = Blocks();
        var slots = Slots;
        void RunSlot(int slot)
        {
            for (int index = (int)((long)items * slot / slots), end = (int)((long)items * (slot + 1) / slots); index < end; index++)
            {
                var ghost = index / blocks;
                var firstChannel = index % blocks * blockWidth;
                var start = layout.Start(ghost);
                var size = layout.Size(ghost);
                body(new GhostCpuWorkItem(ghost, firstChannel, (int)Math.Min(blockWidth, channels - firstChannel), start,
                    start + size, size * valuesPerRow, channels), slot);
            }
        }

        Run(slots, layout.BatchSize * channels * valuesPerRow, RunSlot);
    }

    /// <summary>Channels per work item, channel blocks per ghost batch and work items in all.</summary>
    private (int BlockWidth, int Blocks, int Items) Blocks()
    {
        var blockWidth = (int)Math.Clamp(_valuesPerWorkItem / _valuesPerRow, 1, _channels);
        var blocks = (int)((_channels + blockWidth - 1) / blockWidth);
        return (blockWidth, blocks, _layout.Count * blocks);
    }

    /// <summary>Runs <paramref name="body"/>(i) for every i below <paramref name="items"/>, in parallel when <paramref name="values"/> are enough to pay for it.</summary>
    private static void Run(int items, long values, Action<int> body)
    {
        var threads = get_num_threads();
        if (threads <= 1 || items == 1 || values < ParallelGrainSize)
        {
            for (var index = 0; index < items; index++)
            {
                body(index);
            }
        }
        else if (OpenMPParallel.IsAvailable)
        {
            OpenMPParallel.For(items, threads, body);
        }
        else
        {
            Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
        }
    }

    /// <summary>
    /// The first value of each of the item's pairs, <c>rows[start of ghost batch, channel, 0]</c>: for rows of one value
    /// the tensor's own memory when they fill whole vectors, else a copy at the start of <paramref name="scratch"/>
    /// (the rest is cleared).
    /// </summary>
    public ReadOnlySpan<T> FirstValues<T>(GhostCpuWorkItem item, T* rows, Span<T> scratch) where T : unmanaged
    {
        if (_valuesPerRow == 1 && scratch.Length == item.Channels)
        {
            return new ReadOnlySpan<T>(rows + RowOffset(item.Start, item.FirstChannel), item.Channels);
        }

        scratch.Clear();
        for (var i = 0; i < item.Channels; i++)
        {
            scratch[i] = rows[RowOffset(item.Start, item.FirstChannel + i)];
        }

        return scratch;
    }

    /// <summary>
    /// Σ(u − p) and Σ(u − p)(v − q) of every pair of the item, into the start of <paramref name="sums"/> and
    /// <paramref name="productSums"/> (the rest is cleared); p and q are offsets indexed by channel in the item.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Sums<T>(GhostCpuWorkItem item, T* u, ReadOnlySpan<T> p, T* v, ReadOnlySpan<T> q, Span<T> sums, Span<T> productSums)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (_valuesPerRow == 1)
        {
            SumsAcrossChannels(item, u, p, v, q, sums, productSums);
            return;
        }

        sums.Clear();
        productSums.Clear();

        var width = Vector<T>.Count;
        var vectorEnd = _valuesPerRow - _valuesPerRow % width;
        for (var i = 0; i < item.Channels; i++)
        {
            var (pScalar, qScalar) = (p[i], q[i]);
            var (pVector, qVector) = (new Vector<T>(pScalar), new Vector<T>(qScalar));
            double sum = 0, productSum = 0;
            for (var sample = item.Start; sample < item.End; sample++)
            {
                var offset = RowOffset(sample, item.FirstChannel + i);
                T* uRow = u + offset, vRow = v + offset;
                for (long block = 0; block < vectorEnd; block += width * VectorsPerDoubleFlush)
                {
                    var (sumVector, productVector) = (Vector<T>.Zero, Vector<T>.Zero);
                    for (long k = block, end = Math.Min(vectorEnd, block + width * VectorsPerDoubleFlush); k < end; k += width)
                    {
                        var du = Vector.Load(uRow + k) - pVector;
                        sumVector += du;
                        productVector += du * (Vector.Load(vRow + k) - qVector);
                    }

                    sum += double.CreateTruncating(Vector.Sum(sumVector));
                    productSum += double.CreateTruncating(Vector.Sum(productVector));
                }

                for (var k = vectorEnd; k < _valuesPerRow; k++)
                {
                    var du = uRow[k] - pScalar;
                    sum += double.CreateTruncating(du);
                    productSum += double.CreateTruncating(du * (vRow[k] - qScalar));
                }
            }

            sums[i] = T.CreateTruncating(sum);
            productSums[i] = T.CreateTruncating(productSum);
        }
    }

    /// <summary>
    /// <see cref="Sums"/> for rows of one value, vectorised across channels. Samples are taken
    /// <see cref="SamplesPerBlock"/> rows at a time, so memory is read row after row; within a block each pair of
    /// channel vectors (one float32 cache line) is added up in registers. The element-type sums move into double every
    /// <see cref="VectorsPerDoubleFlush"/> samples when the ghost batch is longer than that.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SumsAcrossChannels<T>(GhostCpuWorkItem item, T* u, ReadOnlySpan<T> p, T* v, ReadOnlySpan<T> q,
        Span<T> sums, Span<T> productSums)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The padding lanes are not summed; they are cleared for the callers that read whole vectors.
        sums[item.Channels..].Clear();
        productSums[item.Channels..].Clear();
        T* u0 = u + RowOffset(item.Start, item.FirstChannel), v0 = v + RowOffset(item.Start, item.FirstChannel);
        var samples = item.End - item.Start;
        var flushes = samples > VectorsPerDoubleFlush;
        Span<double> doubleSums = flushes ? new double[item.Channels] : [];
        Span<double> doubleProductSums = flushes ? new double[item.Channels] : [];
        fixed (T* pAt = p, qAt = q, sumAt = sums, productAt = productSums)
        {
            for (long block = 0; block < samples; block += SamplesPerBlock)
            {
                // A block that starts the sums, or restarts them after a flush, starts from zero instead of loading them.
                AddBlock(u0 + block * _channels, v0 + block * _channels, Math.Min(SamplesPerBlock, samples - block), item.Channels,
                    pAt, qAt, sumAt, productAt, fresh: block % VectorsPerDoubleFlush == 0);
                var blockEnd = block + SamplesPerBlock;
                if (flushes && (blockEnd % VectorsPerDoubleFlush == 0 || blockEnd >= samples))
                {
                    for (var i = 0; i < item.Channels; i++)
                    {
                        doubleSums[i] += double.CreateTruncating(sumAt[i]);
                        doubleProductSums[i] += double.CreateTruncating(productAt[i]);
                    }
                }
            }
        }

        for (var i = 0; i < doubleSums.Length; i++)
        {
            sums[i] = T.CreateTruncating(doubleSums[i]);
            productSums[i] = T.CreateTruncating(doubleProductSums[i]);
        }
    }

    /// <summary>
    /// Adds one block of <paramref name="samples"/> rows of <paramref name="channels"/> values to the sums, or with
    /// <paramref name="fresh"/> writes the block's own sums. When u and p are v and q (the moments), the product is a
    /// square and v is not read again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddBlock<T>(T* u, T* v, long samples, int channels, T* p, T* q, T* sums, T* productSums, bool fresh)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = Vector<T>.Count;
        var squares = u == v && p == q;
        var i = 0;
        for (; i + 2 * width <= channels; i += 2 * width)
        {
            var (p0, p1, q0, q1) = (Vector.Load(p + i), Vector.Load(p + i + width), Vector.Load(q + i), Vector.Load(q + i + width));
            var (sum0, sum1, product0, product1) = fresh
                ? (Vector<T>.Zero, Vector<T>.Zero, Vector<T>.Zero, Vector<T>.Zero)
                : (Vector.Load(sums + i), Vector.Load(sums + i + width), Vector.Load(productSums + i),
                    Vector.Load(productSums + i + width));
            if (squares)
            {
                for (var at = u + i; at < u + i + samples * _channels; at += _channels)
                {
                    var du0 = Vector.Load(at) - p0;
                    var du1 = Vector.Load(at + width) - p1;
                    sum0 += du0;
                    sum1 += du1;
                    product0 += du0 * du0;
                    product1 += du1 * du1;
                }
            }
            else
            {
                for (long offset = i; offset < i + samples * _channels; offset += _channels)
                {
                    var du0 = Vector.Load(u + offset) - p0;
                    var du1 = Vector.Load(u + offset + width) - p1;
                    sum0 += du0;
                    sum1 += du1;
                    product0 += du0 * (Vector.Load(v + offset) - q0);
                    product1 += du1 * (Vector.Load(v + offset + width) - q1);
                }
            }

            Vector.Store(sum0, sums + i);
            Vector.Store(sum1, sums + i + width);
            Vector.Store(product0, productSums + i);
            Vector.Store(product1, productSums + i + width);
        }

        for (; i < channels; i++)
        {
            var (sum, productSum) = fresh ? (T.Zero, T.Zero) : (sums[i], productSums[i]);
            for (long sample = 0; sample < samples; sample++)
            {
                var du = u[sample * _channels + i] - p[i];
                sum += du;
                productSum += du * (v[sample * _channels + i] - q[i]);
            }

            (sums[i], productSums[i]) = (sum, productSum);
        }
    }

    /// <summary>
    /// <see cref="Combine"/> over one block of <paramref name="samples"/> rows of one value: each channel vector's
    /// coefficients stay in registers while the block's rows go by.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CombineBlock<T>(T* u, T* a, T* v, T* b, T* c, T* output, long samples, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = Vector<T>.Count;
        var end = samples * _channels;
        var i = 0;
        for (; i + width <= channels; i += width)
        {
            var (aVector, cVector) = (Vector.Load(a + i), Vector.Load(c + i));
            if (v == null)
            {
                for (var at = (long)i; at < i + end; at += _channels)
                {
                    Vector.Store(aVector * Vector.Load(u + at) + cVector, output + at);
                }
            }
            else
            {
                var bVector = Vector.Load(b + i);
                for (var at = (long)i; at < i + end; at += _channels)
                {
                    Vector.Store(aVector * Vector.Load(u + at) + bVector * Vector.Load(v + at) + cVector, output + at);
                }
            }
        }

        for (; i < channels; i++)
        {
            for (var at = (long)i; at < i + end; at += _channels)
            {
                output[at] = a[i] * u[at] + (v == null ? T.Zero : b[i] * v[at]) + c[i];
            }
        }
    }

    /// <summary>
    /// output = a·u + b·v + c over every pair of the item; a, b, c are indexed by channel in the item. With
    /// <paramref name="v"/> null the b·v term is left out (and <paramref name="b"/> not read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Combine<T>(GhostCpuWorkItem item, T* u, ReadOnlySpan<T> a, T* v, ReadOnlySpan<T> b, ReadOnlySpan<T> c, T* output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (_valuesPerRow == 1)
        {
            var offset = RowOffset(item.Start, item.FirstChannel);
            fixed (T* aAt = a, bAt = b, cAt = c)
            {
                for (long block = 0, samples = item.End - item.Start; block < samples; block += SamplesPerBlock)
                {
                    var blockOffset = offset + block * _channels;
                    CombineBlock(u + blockOffset, aAt, v == null ? null : v + blockOffset, bAt, cAt, output + blockOffset,
                        Math.Min(SamplesPerBlock, samples - block), item.Channels);
                }
            }

            return;
        }

        var width = Vector<T>.Count;
        for (var i = 0; i < item.Channels; i++)
        {
            // Without v, b·v becomes 0·u: rows of several values are memory-bound, so the spare product costs nothing.
            var (aScalar, bScalar, cScalar) = (a[i], v == null ? T.Zero : b[i], c[i]);
            var (aVector, bVector, cVector) = (new Vector<T>(aScalar), new Vector<T>(bScalar), new Vector<T>(cScalar));
            for (var sample = item.Start; sample < item.End; sample++)
            {
                var offset = RowOffset(sample, item.FirstChannel + i);
                T* uRow = u + offset, vRow = (v == null ? u : v) + offset, outputRow = output + offset;
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
