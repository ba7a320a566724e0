namespace Ghost.ML.Torch;

/// <summary>
/// How a training batch is cut into contiguous ghost batches: <see cref="FullGhostBatchCount"/> ghost batches of
/// <see cref="FullGhostBatchSize"/> samples, then a last one of <see cref="TailSize"/> samples if that is not zero.
/// </summary>
/// <remarks>
/// The cut is MosaicML Composer's, <c>torch.chunk(x, k)</c> with <c>k = ceil(N / G)</c>: k ghost batches of
/// <c>ceil(N / k)</c> samples, the last one shorter when k does not divide N (at N = 70, G = 32: 24, 24, 22). A last
/// ghost batch that would hold a single value per channel (one sample of input without spatial dimensions) is merged
/// into the one before it, because its variance is undefined (Composer fails there); for the same reason a ghost
/// batch size of 1 on such input acts as 2. A batch of at most G samples is one ghost batch.
/// </remarks>
internal readonly record struct GhostBatchLayout(int FullGhostBatchSize, int FullGhostBatchCount, int TailSize)
{
    /// <summary>The number of ghost batches, the last one included.</summary>
    public int Count => FullGhostBatchCount + (TailSize > 0 ? 1 : 0);

    /// <summary>The number of samples in the batch.</summary>
    public long BatchSize => FullSampleCount + TailSize;

    /// <summary>The number of samples in ghost batches of the full size.</summary>
    public long FullSampleCount => (long)FullGhostBatchSize * FullGhostBatchCount;

    /// <summary>Index of the first sample of ghost batch <paramref name="ghostBatch"/>.</summary>
    public long Start(int ghostBatch) => (long)ghostBatch * FullGhostBatchSize;

    /// <summary>Samples in ghost batch <paramref name="ghostBatch"/>.</summary>
    public int Size(int ghostBatch) => ghostBatch < FullGhostBatchCount ? FullGhostBatchSize : TailSize;

    /// <summary>The ghost batch sizes in batch order.</summary>
    public IEnumerable<int> Sizes => Enumerable.Repeat(FullGhostBatchSize, FullGhostBatchCount)
        .Concat(TailSize > 0 ? [TailSize] : []);

    /// <summary>Cuts a batch of <paramref name="batchSize"/> samples.</summary>
    /// <param name="batchSize">Samples in the batch; at least 1.</param>
    /// <param name="ghostBatchSize">Requested samples per ghost batch; at least 1.</param>
    /// <param name="valuesPerSample">Values per channel in one sample (the product of the spatial sizes).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is not positive.</exception>
    public static GhostBatchLayout Create(long batchSize, int ghostBatchSize, long valuesPerSample)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ghostBatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(valuesPerSample);
        var requested = valuesPerSample == 1 ? Math.Max(ghostBatchSize, 2) : ghostBatchSize;
        if (batchSize <= requested)
        {
            return Single(batchSize);
        }

        var chunks = (batchSize + requested - 1) / requested;
        var size = (batchSize + chunks - 1) / chunks;
        var fullCount = (int)(batchSize / size);
        var tail = (int)(batchSize - fullCount * size);
        if (tail * valuesPerSample == 1)
        {
            // A one-value last ghost batch is merged into the one before it.
            return fullCount == 1 ? Single(batchSize) : new GhostBatchLayout((int)size, fullCount - 1, (int)size + 1);
        }

        return new GhostBatchLayout((int)size, fullCount, tail);
    }

    private static GhostBatchLayout Single(long batchSize) => new((int)batchSize, 1, 0);
}
