using Ghost.ML.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>
/// Samples decoded once and kept in memory in chunks of a fixed number of rows (see <see cref="ChunkLayout"/>), so
/// that no single buffer grows with the data set; a batch is gathered from whichever chunks hold its rows.
/// </summary>
internal sealed class CachedSamples : LabeledSamples
{
    private readonly List<Tensor> _chunks;
    private readonly ChunkLayout _layout;

    /// <summary>Creates the set, which takes ownership of the chunks and the statistics.</summary>
    /// <param name="chunks">The samples; every chunk but the last holds <paramref name="rowsPerChunk"/> rows.</param>
    /// <param name="rowsPerChunk">Rows per chunk.</param>
    /// <param name="labels">The class of every sample.</param>
    /// <param name="skippedRows">Rows left out for a missing label.</param>
    /// <param name="format">The samples' format.</param>
    /// <param name="statistics">Per-channel statistics, or null.</param>
    public CachedSamples(List<Tensor> chunks, int rowsPerChunk, long[] labels, long skippedRows, FeatureFormat format, ChannelStatistics? statistics)
        : base(format, labels, skippedRows, statistics)
    {
        _chunks = chunks;
        _layout = new ChunkLayout(format.StoredSampleBytes, rowsPerChunk * format.StoredSampleBytes);
    }

    /// <inheritdoc/>
    public override long CachedBytes => _layout.BytesFor(Count);

    /// <inheritdoc/>
    public override IEnumerable<SampleBatch> Batches(long[] order, long count, int batchSize)
    {
        for (long start = 0; start < count; start += batchSize)
        {
            yield return Gather(order.AsSpan((int)start, (int)Math.Min(batchSize, count - start)));
        }
    }

    /// <summary>The samples <paramref name="rows"/> in that order: one index_select per chunk they come from.</summary>
    private SampleBatch Gather(ReadOnlySpan<long> rows)
    {
        var byChunk = new SortedDictionary<int, (List<long> Places, List<long> Offsets)>();
        for (int place = 0; place < rows.Length; place++)
        {
            var (chunk, offset) = _layout.Locate(rows[place]);
            if (!byChunk.TryGetValue(chunk, out var group))
            {
                byChunk[chunk] = group = ([], []);
            }

            group.Places.Add(place);
            group.Offsets.Add(offset);
        }

        var samples = torch.empty([rows.Length, .. Format.SampleShape], Format.StoredType);
        foreach (var (chunk, (places, offsets)) in byChunk)
        {
            using var scope = torch.NewDisposeScope();
            samples.index_copy_(0, torch.tensor(places.ToArray()), _chunks[chunk].index_select(0, torch.tensor(offsets.ToArray())));
        }

        return new SampleBatch(samples, torch.tensor(rows.ToArray().Select(row => Labels[row]).ToArray()));
    }

    /// <inheritdoc/>
    private protected override void DisposeSamples()
    {
        foreach (var chunk in _chunks)
        {
            chunk.Dispose();
        }
    }
}
