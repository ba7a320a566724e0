using Microsoft.ML;

namespace Ghost.ML.Scoring;

/// <summary>
/// The lazy result of <see cref="GhostBatchNormClassificationTransformer.Transform"/>: nothing is scored until a
/// cursor moves, and then a batch at a time. Immutable, so it is safe to use from several threads (each cursor on
/// one thread, as ML.NET requires).
/// </summary>
internal sealed class BatchedScoringDataView : IDataView
{
    private readonly ScoringBinding _binding;
    private readonly IDataView _input;
    private readonly int _batchSize;

    /// <summary>Scores <paramref name="input"/> in batches of <paramref name="batchSize"/> rows.</summary>
    public BatchedScoringDataView(ScoringBinding binding, IDataView input, int batchSize)
    {
        _binding = binding;
        _input = input;
        _batchSize = batchSize;
    }

    /// <inheritdoc/>
    public bool CanShuffle => false;

    /// <inheritdoc/>
    public DataViewSchema Schema => _binding.OutputSchema;

    /// <inheritdoc/>
    public long? GetRowCount() => _input.GetRowCount();

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new BatchedScoringCursor(_binding, _input, columnsNeeded, _batchSize);

    /// <inheritdoc/>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];
}
