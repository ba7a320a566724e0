namespace Ghost.ML.Training;

/// <summary>
/// The samples that train and those that validate (null without validation); disposing releases both, and the set
/// they were selected from when a hold-out split one set in two.
/// </summary>
/// <param name="Train">The training samples.</param>
/// <param name="Validation">The validation samples, or null.</param>
/// <param name="Source">The set both were selected from, or null when each is its own.</param>
internal sealed record TrainingSets(LabeledSamples Train, LabeledSamples? Validation, LabeledSamples? Source = null) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose()
    {
        Train.Dispose();
        Validation?.Dispose();
        Source?.Dispose();
    }
}
