namespace Ghost.ML.Training;

/// <summary>
/// Some samples of another set, e.g. the part of a training set that a hold-out keeps: batches are read from the
/// source, so a cached source is not copied and a streamed one is still streamed. The source stays the owner of the
/// samples and of the channel statistics, which describe all of its samples.
/// </summary>
internal sealed class SelectedSamples : LabeledSamples
{
    private readonly LabeledSamples _source;
    private readonly long[] _indices;

    /// <summary>Selects <paramref name="indices"/> of <paramref name="source"/>.</summary>
    public SelectedSamples(LabeledSamples source, long[] indices)
        : base(source.Format, [.. indices.Select(index => source.Labels[index])], 0, source.Statistics)
    {
        _source = source;
        _indices = indices;
    }

    /// <inheritdoc/>
    public override long CachedBytes => 0;

    /// <inheritdoc/>
    public override IEnumerable<SampleBatch> Batches(long[] order, long count, int batchSize) =>
        _source.Batches([.. order.Take(checked((int)count)).Select(position => _indices[position])], count, batchSize);

    /// <inheritdoc/>
    private protected override void DisposeSamples()
    {
        // The source owns the samples.
    }

    /// <inheritdoc/>
    private protected override bool OwnsStatistics => false;
}
