using Ghost.ML.Features;
using Microsoft.ML;

namespace Ghost.ML.Training;

/// <summary>
/// Walks the rows of a training or validation set that have a label, numbering them 0, 1, 2… (rows with a missing
/// label, key value 0, are skipped and counted); the feature value of the current row is read only when asked for.
/// </summary>
internal sealed class LabeledRowCursor : IDisposable
{
    private readonly DataViewRowCursor _cursor;
    private readonly ValueGetter<uint> _label;
    private readonly string _role;
    private uint _key;

    /// <summary>Opens a cursor over the feature and label columns of <paramref name="data"/>.</summary>
    public LabeledRowCursor(IDataView data, TrainingColumns columns, FeatureFormat format, string role)
    {
        var feature = columns.Feature(data.Schema, role);
        var label = columns.Label(data.Schema, role);
        LabelColumnName = label.Name;
        _role = role;
        _cursor = data.GetRowCursor([feature, label]);
        _label = _cursor.GetGetter<uint>(label);
        Features = format.CreateReader(_cursor, feature);
    }

    /// <summary>Gathers feature values of the current row on request (<see cref="FeatureBatchReader.Add"/>).</summary>
    public FeatureBatchReader Features { get; }

    /// <summary>The label column's name.</summary>
    public string LabelColumnName { get; }

    /// <summary>Number of the current labeled row; -1 before the first.</summary>
    public long Ordinal { get; private set; } = -1;

    /// <summary>Zero-based class of the current row.</summary>
    public long Label => _key - 1;

    /// <summary>Rows skipped so far because their label was missing.</summary>
    public long SkippedRows { get; private set; }

    /// <summary>Moves to the next row with a label; false at the end.</summary>
    /// <exception cref="InvalidDataException">
    /// A file could not be read upstream (e.g. by LoadRawImageBytes); ML.NET's parallel cursors report that as
    /// "Splitter/consolidator worker encountered exception", which says nothing about the file: the message here
    /// names it, and the original is the inner exception.
    /// </exception>
    public bool MoveNext()
    {
        try
        {
            return MoveToLabeledRow();
        }
        catch (InvalidOperationException e) when (e.InnerException is IOException io)
        {
            throw new InvalidDataException($"The {_role} could not be read: {io.Message}", e);
        }
    }

    private bool MoveToLabeledRow()
    {
        while (_cursor.MoveNext())
        {
            _label(ref _key);
            if (_key != 0)
            {
                Ordinal++;
                return true;
            }

            SkippedRows++;
        }

        return false;
    }

    /// <inheritdoc/>
    public void Dispose() => _cursor.Dispose();
}
