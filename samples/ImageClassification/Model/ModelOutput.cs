using Microsoft.ML.Data;

namespace ImageClassification.Model;

/// <summary>A prediction for one image, as in Model Builder's generated code.</summary>
public sealed class ModelOutput
{
    /// <summary>The predicted class name.</summary>
    [ColumnName(ColumnNames.PredictedLabel)]
    public string PredictedLabel { get; set; } = "";

    /// <summary>The probability of each class, in the order of the label's key values (the class names, sorted).</summary>
    [ColumnName(ColumnNames.Score)]
    public float[] Score { get; set; } = [];

    /// <summary>The probability of the predicted class.</summary>
    public float Confidence => Score.Length == 0 ? 0 : Score.Max();
}
