namespace Ghost.ML.Classification;

/// <summary>The columns a classifier reads (label at training time, features) and the two it adds (Score, PredictedLabel).</summary>
/// <param name="Label">The key-typed label column the classifier was trained on.</param>
/// <param name="Feature">The feature column it reads.</param>
/// <param name="Score">The column of class probabilities it adds.</param>
/// <param name="PredictedLabel">The column of the predicted class it adds.</param>
internal sealed record ClassifierColumns(string Label, string Feature, string Score, string PredictedLabel)
{
    /// <summary>The two output columns.</summary>
    public OutputColumns Outputs => new(Score, PredictedLabel);
}
