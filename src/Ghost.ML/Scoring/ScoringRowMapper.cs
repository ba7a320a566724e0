using Ghost.ML.Features;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Scoring;

/// <summary>
/// Scores one row at a time (a batch of one) for <c>PredictionEngine</c>; the result is cached by row position so
/// that Score and PredictedLabel share one forward pass.
/// </summary>
internal sealed class ScoringRowMapper : IRowToRowMapper
{
    private readonly ScoringBinding _binding;

    /// <summary>Creates the mapper.</summary>
    public ScoringRowMapper(ScoringBinding binding)
    {
        _binding = binding;
    }

    /// <inheritdoc/>
    public DataViewSchema InputSchema => _binding.InputSchema;

    /// <inheritdoc/>
    public DataViewSchema OutputSchema => _binding.OutputSchema;

    /// <inheritdoc/>
    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
        _binding.Dependencies(dependingColumns);

    /// <inheritdoc/>
    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new ScoredRow(_binding, input, activeColumns);

    private sealed class ScoredRow : DataViewRow
    {
        private readonly ScoringBinding _binding;
        private readonly DataViewRow _input;
        private readonly HashSet<int> _active;
        private readonly FeatureBatchReader? _reader;
        private float[] _scores = [];
        private long _scoredPosition = -1;

        public ScoredRow(ScoringBinding binding, DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        {
            _binding = binding;
            _input = input;
            _active = [.. activeColumns.Select(column => column.Index)];
            if (_active.Any(index => index >= binding.InputSchema.Count))
            {
                _reader = binding.Model.Input.Format.CreateReader(input, binding.FeatureColumn);
            }
        }

        public override DataViewSchema Schema => _binding.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_binding.IsOutput(column))
            {
                return _input.GetGetter<TValue>(_binding.InputColumn(column));
            }

            if (_reader is null || !_active.Contains(column.Index))
            {
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the row was created.");
            }

            return _binding.OutputGetter<TValue>(column, () => CurrentScores(_reader));
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        private ReadOnlyMemory<float> CurrentScores(FeatureBatchReader reader)
        {
            if (_scoredPosition != _input.Position)
            {
                reader.Add();
                using var samples = reader.Take();
                _scores = _binding.Model.Score(samples);
                _scoredPosition = _input.Position;
            }

            return _scores;
        }
    }
}
