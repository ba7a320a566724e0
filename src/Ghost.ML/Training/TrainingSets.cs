namespace Ghost.ML.Training;

/// <summary>The samples that train and those that validate (null without validation); disposing releases both.</summary>
/// <param name="Train">The training samples.</param>
/// <param name="Validation">The validation samples, or null.</param>
internal sealed record TrainingSets(LabeledSamples Train, LabeledSamples? Validation) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose()
    {
        Train.Dispose();
        Validation?.Dispose();
    }
}
