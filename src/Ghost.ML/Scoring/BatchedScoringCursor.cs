using Ghost.ML.Features;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Scoring;

/// <summary>
/// A cursor over scored data built on two upstream cursors: a pass-through cursor serves the input columns, and a
/// look-ahead cursor over the feature column alone reads a batch of rows ahead, which are decoded in parallel and
/// scored in one forward pass. Both see the same rows in the same order, so the scores stay in step.
/// </summary>
internal sealed class BatchedScoringCursor : DataViewRowCursor
{
    private readonly ScoringBinding _binding;
    private readonly DataViewRowCursor _passThrough;
    private readonly DataViewRowCursor? _lookAhead;
    private readonly FeatureBatchReader? _reader;
    private readonly HashSet<int> _activeOutputs;
    private readonly int _batchSize;
    private float[] _scores = [];
    private int _rowsInBatch;
    private int _rowInBatch;

    /// <summary>Opens the upstream cursors; the look-ahead one only when an output column is needed.</summary>
    public BatchedScoringCursor(ScoringBinding binding, IDataView input, IEnumerable<DataViewSchema.Column> columnsNeeded, int batchSize)
    {
        _binding = binding;
        _batchSize = batchSize;
        var needed = columnsNeeded.ToList();
        _activeOutputs = [.. needed.Where(binding.IsOutput).Select(column => column.Index)];
        _passThrough = input.GetRowCursor(needed.Where(column => !binding.IsOutput(column)).Select(binding.InputColumn));
        if (_activeOutputs.Count > 0)
        {
            _lookAhead = input.GetRowCursor([binding.FeatureColumn]);
            _reader = binding.Model.Input.Format.CreateReader(_lookAhead, binding.FeatureColumn);
        }
    }

    /// <inheritdoc/>
    public override DataViewSchema Schema => _binding.OutputSchema;

    /// <inheritdoc/>
    public override long Position => _passThrough.Position;

    /// <inheritdoc/>
    public override long Batch => _passThrough.Batch;

    /// <inheritdoc/>
    public override bool MoveNext()
    {
        if (!_passThrough.MoveNext())
        {
            return false;
        }

        if (_reader is not null && ++_rowInBatch >= _rowsInBatch)
        {
            ScoreNextBatch(_reader);
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool IsColumnActive(DataViewSchema.Column column) =>
        _binding.IsOutput(column) ? _activeOutputs.Contains(column.Index) : _passThrough.IsColumnActive(_binding.InputColumn(column));

    /// <inheritdoc/>
    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (!_binding.IsOutput(column))
        {
            return _passThrough.GetGetter<TValue>(_binding.InputColumn(column));
        }

        if (!_activeOutputs.Contains(column.Index))
        {
            throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was opened.");
        }

        return _binding.OutputGetter<TValue>(column, CurrentScores);
    }

    /// <inheritdoc/>
    public override ValueGetter<DataViewRowId> GetIdGetter() => _passThrough.GetIdGetter();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _passThrough.Dispose();
            _lookAhead?.Dispose();
        }

        base.Dispose(disposing);
    }

    private ReadOnlyMemory<float> CurrentScores()
    {
        int classes = _binding.Model.ClassCount;
        return new ReadOnlyMemory<float>(_scores, _rowInBatch * classes, classes);
    }

    private void ScoreNextBatch(FeatureBatchReader reader)
    {
        while (reader.Count < _batchSize && _lookAhead!.MoveNext())
        {
            reader.Add();
        }

        if (reader.Count == 0)
        {
            throw new InvalidOperationException("The input data returned fewer rows to the look-ahead cursor than to the pass-through cursor.");
        }

        _rowsInBatch = reader.Count;
        _rowInBatch = 0;
        using var samples = reader.Take();
        _scores = _binding.Model.Score(samples);
    }
}
