using Ghost.ML.Features;
using Ghost.ML.Hosting;
using Microsoft.ML;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>
/// A set too large for the cache budget: every pass reads the IDataView again, decoding rows in parallel chunks.
/// The visiting order is cut into rounds of as many samples as the budget holds; each round is one pass over the
/// rows that decodes only that round's rows into a pool, and its batches are then taken from the pool in the order's
/// sequence. So any order (a full seeded shuffle too) costs one decode per sample and memory of one pool, whatever
/// the data set's size; the passes themselves only move the cursor, which is cheap next to decoding.
/// </summary>
/// <remarks>
/// The source must give the same rows in the same order on every pass (as ML.NET's loaders do); a label that has
/// changed between passes is reported as an <see cref="InvalidDataException"/>.
/// </remarks>
internal sealed class StreamedSamples : LabeledSamples
{
    private readonly IDataView _data;
    private readonly TrainingColumns _columns;
    private readonly string _role;
    private readonly FitCancellation _cancellation;
    private readonly ChunkLayout _layout;
    private readonly long _poolBudgetBytes;

    /// <summary>Creates the set from a first pass's results; it takes ownership of the statistics.</summary>
    /// <param name="data">The rows, read again on every pass.</param>
    /// <param name="columns">The feature and label columns.</param>
    /// <param name="format">The settled format.</param>
    /// <param name="role">"training set" or "validation set", for messages.</param>
    /// <param name="labels">The class of every sample, from the first pass.</param>
    /// <param name="skippedRows">Rows left out for a missing label.</param>
    /// <param name="statistics">Per-channel statistics, or null.</param>
    /// <param name="layout">Rows decoded together, and the sample size.</param>
    /// <param name="poolBudgetBytes">Bytes of samples one round may hold (at least one batch is held).</param>
    /// <param name="cancellation">Checked once per chunk of rows.</param>
    public StreamedSamples(IDataView data, TrainingColumns columns, FeatureFormat format, string role, long[] labels, long skippedRows,
        ChannelStatistics? statistics, ChunkLayout layout, long poolBudgetBytes, FitCancellation cancellation)
        : base(format, labels, skippedRows, statistics)
    {
        _data = data;
        _columns = columns;
        _role = role;
        _cancellation = cancellation;
        _layout = layout;
        _poolBudgetBytes = poolBudgetBytes;
    }

    /// <inheritdoc/>
    public override long CachedBytes => 0;

    /// <inheritdoc/>
    public override IEnumerable<SampleBatch> Batches(long[] order, long count, int batchSize)
    {
        int poolRows = _layout.PoolRows(_poolBudgetBytes, batchSize);
        for (long roundStart = 0; roundStart < count; roundStart += poolRows)
        {
            var round = order.AsSpan((int)roundStart, (int)Math.Min(poolRows, count - roundStart)).ToArray();
            var ascending = (long[])round.Clone();
            Array.Sort(ascending);
            using var pool = Decode(ascending);
            for (int start = 0; start < round.Length; start += batchSize)
            {
                var rows = round.AsSpan(start, Math.Min(batchSize, round.Length - start)).ToArray();
                var places = rows.Select(row => (long)Array.BinarySearch(ascending, row)).ToArray();
                using var index = torch.tensor(places);
                yield return new SampleBatch(pool.index_select(0, index), torch.tensor(rows.Select(row => Labels[row]).ToArray()));
            }
        }
    }

    /// <summary>One pass that decodes the samples <paramref name="ascending"/> (sorted row numbers) into one tensor.</summary>
    private Tensor Decode(long[] ascending)
    {
        var pool = torch.empty([ascending.Length, .. Format.SampleShape], Format.StoredType);
        try
        {
            using var rows = new LabeledRowCursor(_data, _columns, Format, _role);
            var reader = rows.Features;
            long filled = 0;
            void Flush()
            {
                _cancellation.ThrowIfCancellationRequested();
                using var chunk = reader.Take();
                pool.narrow(0, filled, chunk.shape[0]).copy_(chunk);
                filled += chunk.shape[0];
            }

            int next = 0;
            while (next < ascending.Length && rows.MoveNext())
            {
                if (rows.Ordinal != ascending[next])
                {
                    continue;
                }

                if (rows.Label != Labels[rows.Ordinal])
                {
                    throw OrderChanged();
                }

                reader.Add();
                next++;
                if (reader.Count == _layout.RowsPerChunk)
                {
                    Flush();
                }
            }

            if (next < ascending.Length)
            {
                throw OrderChanged();
            }

            if (reader.Count > 0)
            {
                Flush();
            }

            return pool;
        }
        catch (InvalidDataException e) when (e.Data[FeatureBatchReader.RowPositionKey] is long position)
        {
            pool.Dispose();
            throw InRole(e, _data, _role, position);
        }
        catch
        {
            pool.Dispose();
            throw;
        }
    }

    private InvalidDataException OrderChanged() => new(
        $"The {_role} gave other rows on a later pass than on the first: a set larger than the cache budget is read again every epoch, so its source must give the same rows in the same order on every pass (or raise TrainingCacheBudgetBytes so that it is read once).");

    /// <inheritdoc/>
    private protected override void DisposeSamples()
    {
    }
}
