using Microsoft.ML;
using static TorchSharp.torch;

namespace Ghost.ML.Features;

/// <summary>
/// Gathers a feature column's values from a cursor, one row at a time, and turns the gathered rows into one CPU
/// tensor [n, ...sample shape]: the only place where values are copied out of ML.NET's buffers.
/// </summary>
internal abstract class FeatureBatchReader
{
    private readonly List<long> _positions = [];

    /// <summary>Creates a reader of <paramref name="column"/> on <paramref name="row"/>.</summary>
    protected FeatureBatchReader(DataViewRow row, DataViewSchema.Column column)
    {
        Row = row;
        Column = column;
    }

    /// <summary>Rows gathered and not yet taken.</summary>
    public int Count => _positions.Count;

    /// <summary>The format the samples have; a reader may settle it from the data (see <see cref="Settle"/>).</summary>
    public abstract FeatureFormat Format { get; }

    /// <summary>The row (cursor) read from.</summary>
    protected DataViewRow Row { get; }

    /// <summary>The feature column.</summary>
    protected DataViewSchema.Column Column { get; }

    /// <summary>Copies the current row's value.</summary>
    public void Add()
    {
        _positions.Add(Row.Position);
        AddValue();
    }

    /// <summary>Converts the gathered rows (in parallel where that pays) into a tensor and forgets them.</summary>
    /// <exception cref="InvalidDataException">A value cannot be converted; the message names the row and column.</exception>
    public Tensor Take()
    {
        var batch = TakeValues(_positions);
        _positions.Clear();
        return batch;
    }

    /// <summary>
    /// Called once on all the samples of a training set, after the last <see cref="Take"/>: a reader that had to
    /// decide something from the whole set (grey or colour images) narrows the samples to <see cref="Format"/>.
    /// </summary>
    public virtual Tensor Settle(Tensor samples) => samples;

    /// <summary>Copies the current row's value.</summary>
    protected abstract void AddValue();

    /// <summary>Converts the gathered values; <paramref name="positions"/> are their rows, for error messages.</summary>
    protected abstract Tensor TakeValues(IReadOnlyList<long> positions);

    /// <summary>Key of <see cref="Exception.Data"/> that holds the row position of a value that cannot be used.</summary>
    public const string RowPositionKey = "RowPosition";

    /// <summary>The error for a value that cannot be used; its <see cref="Exception.Data"/> holds the row position.</summary>
    protected InvalidDataException BadValue(long position, string problem, Exception? inner = null) =>
        new($"Row {position}, feature column '{Column.Name}': {problem}", inner) { Data = { [RowPositionKey] = position } };
}
