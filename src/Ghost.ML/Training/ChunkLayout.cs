namespace Ghost.ML.Training;

/// <summary>
/// How cached samples are split into chunks: every chunk but the last holds <see cref="RowsPerChunk"/> samples, so a
/// sample's chunk and place follow from its row number. Row numbers and byte counts are 64-bit throughout: a cache
/// passes 2 GiB long before any single chunk (at most <see cref="MaxRowsPerChunk"/> samples) comes near it.
/// </summary>
internal readonly record struct ChunkLayout
{
    /// <summary>Most samples in one chunk; also the rows decoded together in parallel.</summary>
    public const int MaxRowsPerChunk = 512;

    /// <summary>Creates the layout for samples of <paramref name="sampleBytes"/> bytes in chunks of about <paramref name="chunkBytes"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public ChunkLayout(long sampleBytes, long chunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        SampleBytes = sampleBytes;
        RowsPerChunk = (int)Math.Clamp(chunkBytes / sampleBytes, 1, MaxRowsPerChunk);
    }

    /// <summary>Bytes of one stored sample.</summary>
    public long SampleBytes { get; }

    /// <summary>Samples per chunk.</summary>
    public int RowsPerChunk { get; }

    /// <summary>The chunk that holds sample <paramref name="row"/> and the sample's place in it.</summary>
    public (int Chunk, int Offset) Locate(long row) => (checked((int)(row / RowsPerChunk)), (int)(row % RowsPerChunk));

    /// <summary>Chunks needed for <paramref name="rows"/> samples.</summary>
    public long ChunkCount(long rows) => (rows + RowsPerChunk - 1) / RowsPerChunk;

    /// <summary>Bytes that <paramref name="rows"/> samples take.</summary>
    /// <exception cref="OverflowException">More than <see cref="long.MaxValue"/> bytes.</exception>
    public long BytesFor(long rows) => checked(rows * SampleBytes);

    /// <summary>
    /// Samples held at once while streaming with <paramref name="budgetBytes"/>: a whole number of batches of
    /// <paramref name="batchSize"/>, at least one batch, and at most <see cref="int.MaxValue"/>.
    /// </summary>
    public int PoolRows(long budgetBytes, int batchSize)
    {
        long batches = Math.Max(1, budgetBytes / SampleBytes / batchSize);
        return (int)Math.Min(batches * batchSize, int.MaxValue / batchSize * (long)batchSize);
    }
}
