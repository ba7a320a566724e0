using Ghost.ML.Features;
using Ghost.ML.Hosting;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>
/// A training or validation set held in memory: every sample decoded once ([N, ...sample shape], bytes for images)
/// with its zero-based class index, so that epochs never touch the IDataView again.
/// </summary>
internal sealed class LabeledSamples : IDisposable
{
    /// <summary>Rows read from the cursor per conversion batch (images are decoded in parallel within one).</summary>
    private const int ReadChunk = 512;

    private LabeledSamples(Tensor samples, Tensor labels, FeatureFormat format, int skippedRows)
    {
        Samples = samples;
        Labels = labels;
        Format = format;
        SkippedRows = skippedRows;
    }

    /// <summary>The samples on the CPU, [N, ...sample shape].</summary>
    public Tensor Samples { get; }

    /// <summary>Zero-based class indices, int64 [N].</summary>
    public Tensor Labels { get; }

    /// <summary>The format of <see cref="Samples"/> (settled: an image format knows its channel count).</summary>
    public FeatureFormat Format { get; }

    /// <summary>Rows left out because their label was missing (key value 0).</summary>
    public int SkippedRows { get; }

    /// <summary>Number of samples.</summary>
    public long Count => Labels.shape[0];

    /// <summary>Reads and converts every row of <paramref name="data"/>.</summary>
    /// <param name="data">The rows.</param>
    /// <param name="columns">The feature and label columns.</param>
    /// <param name="format">How the feature column becomes samples.</param>
    /// <param name="role">"training set" or "validation set", for messages.</param>
    /// <param name="cancellation">Checked once per chunk of rows.</param>
    /// <exception cref="InvalidDataException">A value cannot be used, or no row has a label.</exception>
    public static LabeledSamples Read(IDataView data, TrainingColumns columns, FeatureFormat format, string role, FitCancellation cancellation)
    {
        var feature = columns.Feature(data.Schema, role);
        var label = columns.Label(data.Schema, role);
        using var cursor = data.GetRowCursor([feature, label]);
        var reader = format.CreateReader(cursor, feature);
        var labelGetter = cursor.GetGetter<uint>(label);
        var chunks = new List<Tensor>();
        var labels = new List<long>();
        int skipped = 0;
        try
        {
            uint key = 0;
            while (cursor.MoveNext())
            {
                labelGetter(ref key);
                if (key == 0)
                {
                    skipped++;
                    continue;
                }

                labels.Add(key - 1);
                reader.Add();
                if (reader.Count == ReadChunk)
                {
                    cancellation.ThrowIfCancellationRequested();
                    chunks.Add(reader.Take());
                }
            }

            if (reader.Count > 0)
            {
                chunks.Add(reader.Take());
            }

            if (labels.Count == 0)
            {
                throw new InvalidDataException(skipped == 0
                    ? $"The {role} is empty."
                    : $"The {role} has no row with a label: all {skipped} rows have a missing value in label column '{label.Name}'.");
            }

            using var all = torch.cat(chunks, 0);
            return new LabeledSamples(reader.Settle(all).contiguous(), torch.tensor(labels.ToArray()), reader.Format, skipped);
        }
        catch (InvalidDataException e) when (e.Data[FeatureBatchReader.RowPositionKey] is long position)
        {
            throw new InvalidDataException($"{e.Message} In the {role}{TextValuesAt(data, position)}.", e);
        }
        finally
        {
            foreach (var chunk in chunks)
            {
                chunk.Dispose();
            }
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

    /// <summary>The distinct classes present.</summary>
    public int DistinctClasses()
    {
        var (classes, _, _) = Labels.unique();
        using (classes)
        {
            return (int)classes.shape[0];
        }
    }

    /// <summary>A copy holding only the samples at <paramref name="indices"/>, in that order.</summary>
    public LabeledSamples Select(long[] indices)
    {
        using var index = torch.tensor(indices);
        return new LabeledSamples(Samples.index_select(0, index), Labels.index_select(0, index), Format, 0);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Samples.Dispose();
        Labels.Dispose();
    }
}
