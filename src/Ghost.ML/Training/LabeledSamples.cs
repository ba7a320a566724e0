using Ghost.ML.Features;
using Ghost.ML.Hosting;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>
/// A training or validation set, read once with its labels: either cached in memory (<see cref="CachedSamples"/>)
/// or, when its samples exceed the cache budget, decoded again from the IDataView on every pass
/// (<see cref="StreamedSamples"/>). Both give the same batches for the same visiting order.
/// </summary>
internal abstract class LabeledSamples : IDisposable
{
    private protected LabeledSamples(FeatureFormat format, long[] labels, long skippedRows, ChannelStatistics? statistics)
    {
        Format = format;
        Labels = labels;
        SkippedRows = skippedRows;
        Statistics = statistics;
    }

    /// <summary>The format of the samples (settled: an image format knows its channel count).</summary>
    public FeatureFormat Format { get; }

    /// <summary>Zero-based class index of every sample.</summary>
    public long[] Labels { get; }

    /// <summary>Number of samples.</summary>
    public long Count => Labels.LongLength;

    /// <summary>Rows left out because their label was missing (key value 0).</summary>
    public long SkippedRows { get; }

    /// <summary>Per-channel statistics of the samples, when they were measured.</summary>
    public ChannelStatistics? Statistics { get; }

    /// <summary>Bytes of samples held in memory between passes.</summary>
    public abstract long CachedBytes { get; }

    /// <summary>
    /// The samples <c>order[0..count)</c> in that order, in batches of <paramref name="batchSize"/> (the last may
    /// be smaller); the caller disposes each batch.
    /// </summary>
    public abstract IEnumerable<SampleBatch> Batches(long[] order, long count, int batchSize);

    /// <summary>The distinct classes present.</summary>
    public int DistinctClasses() => Labels.Distinct().Count();

    /// <summary>
    /// The samples at <paramref name="indices"/>, in that order, read through this set (nothing is copied); this set
    /// must outlive the selection.
    /// </summary>
    public LabeledSamples Select(long[] indices) => new SelectedSamples(this, indices);

    /// <summary>
    /// Reads and converts every row of <paramref name="data"/>, caching the samples while they fit in
    /// <paramref name="budgetBytes"/>; past that, the samples read so far are dropped and the set is streamed.
    /// </summary>
    /// <param name="data">The rows.</param>
    /// <param name="columns">The feature and label columns.</param>
    /// <param name="format">How the feature column becomes samples.</param>
    /// <param name="role">"training set" or "validation set", for messages.</param>
    /// <param name="budgetBytes">Most bytes of samples to keep in memory.</param>
    /// <param name="chunkBytes">Bytes per cache chunk (about).</param>
    /// <param name="measureChannels">Whether to measure per-channel statistics while reading.</param>
    /// <param name="cancellation">Checked once per chunk of rows.</param>
    /// <exception cref="InvalidDataException">A value cannot be used, or no row has a label.</exception>
    public static LabeledSamples Read(IDataView data, TrainingColumns columns, FeatureFormat format, string role, long budgetBytes,
        long chunkBytes, bool measureChannels, FitCancellation cancellation)
    {
        var layout = new ChunkLayout(format.StoredSampleBytes, chunkBytes);
        var chunks = new List<Tensor>();
        var labels = new List<long>();
        var statistics = measureChannels ? new ChannelStatistics() : null;
        bool fits = true;
        try
        {
            using var rows = new LabeledRowCursor(data, columns, format, role);
            var reader = rows.Features;
            void Store()
            {
                cancellation.ThrowIfCancellationRequested();
                var chunk = reader.Take();
                statistics?.Add(chunk, format);

                fits = fits && layout.BytesFor(labels.Count) <= budgetBytes;
                if (fits)
                {
                    chunks.Add(chunk);
                    return;
                }

                chunk.Dispose();
                DisposeAll(chunks);
                chunks.Clear();
            }

            while (rows.MoveNext())
            {
                labels.Add(rows.Label);
                reader.Add();
                if (reader.Count == layout.RowsPerChunk)
                {
                    Store();
                }
            }

            if (reader.Count > 0)
            {
                Store();
            }

            if (labels.Count == 0)
            {
                throw new InvalidDataException(rows.SkippedRows == 0
                    ? $"The {role} is empty."
                    : $"The {role} has no row with a label: all {rows.SkippedRows} rows have a missing value in label column '{rows.LabelColumnName}'.");
            }

            var settled = reader.Format;
            if (!fits)
            {
                return new StreamedSamples(data, columns, settled, role, [.. labels], rows.SkippedRows, statistics,
                    new ChunkLayout(settled.StoredSampleBytes, chunkBytes), budgetBytes, cancellation);
            }

            for (int i = 0; i < chunks.Count; i++)
            {
                var narrowed = reader.Settle(chunks[i]);
                if (!ReferenceEquals(narrowed, chunks[i]))
                {
                    chunks[i].Dispose();
                    chunks[i] = narrowed;
                }
            }

            return new CachedSamples(chunks, layout.RowsPerChunk, [.. labels], rows.SkippedRows, settled, statistics);
        }
        catch (InvalidDataException e) when (e.Data[FeatureBatchReader.RowPositionKey] is long position)
        {
            DisposeAll(chunks);
            statistics?.Dispose();
            throw InRole(e, data, role, position);
        }
        catch
        {
            DisposeAll(chunks);
            statistics?.Dispose();
            throw;
        }
    }

    /// <summary>The error <paramref name="e"/> of row <paramref name="position"/>, with the role and the row's text columns added.</summary>
    private protected static InvalidDataException InRole(InvalidDataException e, IDataView data, string role, long position) =>
        new($"{e.Message} In the {role}{TextValuesAt(data, position)}.", e);

    /// <inheritdoc/>
    public void Dispose()
    {
        if (OwnsStatistics)
        {
            Statistics?.Dispose();
        }

        DisposeSamples();
    }

    /// <summary>Whether disposing this set disposes <see cref="Statistics"/> (a selection shares its source's).</summary>
    private protected virtual bool OwnsStatistics => true;

    /// <summary>Frees the samples held between passes.</summary>
    private protected abstract void DisposeSamples();

    private static void DisposeAll(IEnumerable<Tensor> tensors)
    {
        foreach (var tensor in tensors.ToList())
        {
            tensor.Dispose();
        }
    }

    /// <summary>
    /// The text columns of one row, e.g. " (ImagePath = 'cat-17.png')": for images loaded with LoadRawImageBytes the
    /// path column tells which file failed.
    /// </summary>
    private static string TextValuesAt(IDataView data, long position)
    {
        var textColumns = data.Schema.Where(column => !column.IsHidden && column.Type is TextDataViewType).ToList();
        using var cursor = data.GetRowCursor(textColumns);
        while (textColumns.Count > 0 && cursor.MoveNext())
        {
            if (cursor.Position == position)
            {
                var values = textColumns.Select(column =>
                {
                    ReadOnlyMemory<char> value = default;
                    cursor.GetGetter<ReadOnlyMemory<char>>(column)(ref value);
                    return $"{column.Name} = '{value}'";
                });
                return $" ({string.Join(", ", values)})";
            }
        }

        return string.Empty;
    }
}
