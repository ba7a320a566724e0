namespace Ghost.ML.Torch;

/// <summary>
/// How a training batch is cut into contiguous ghost batches.
/// </summary>
/// <remarks>
/// Tail policy: samples are taken in order, <c>ghostBatchSize</c> at a time; the remainder forms a last, smaller
/// ghost batch. A ghost batch that would hold a single value per channel (a one-sample tail on input without
/// spatial dimensions) is merged into the ghost batch before it, because its variance is undefined. For the same
/// reason a ghost batch size of 1 on such input is raised to 2.
/// </remarks>
internal readonly record struct GhostBatchLayout(int FullGhostBatchSize, int FullGhostBatchCount, int TailSize)
{
    /// <summary>The number of ghost batches, the tail included.</summary>
    public int Count => FullGhostBatchCount + (TailSize > 0 ? 1 : 0);

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
    public static GhostBatchLayout Create(long batchSize, int ghostBatchSize, long valuesPerSample)
    {
        if (batchSize <= ghostBatchSize)
        {
            return new GhostBatchLayout((int)batchSize, 1, 0);
        }

        var size = valuesPerSample == 1 ? Math.Max(ghostBatchSize, 2) : ghostBatchSize;
        var count = (int)(batchSize / size);
        var tail = (int)(batchSize % size);
        if (count == 0)
        {
            return new GhostBatchLayout((int)batchSize, 1, 0);
        }

        if (tail * valuesPerSample == 1)
        {
            // A one-value tail is folded into the ghost batch before it.
            return count == 1
                ? new GhostBatchLayout((int)batchSize, 1, 0)
                : new GhostBatchLayout(size, count - 1, size + tail);
        }

        return new GhostBatchLayout(size, count, tail);
    }
}
