namespace ImageClassification.Model;

/// <summary>The column names the pipeline reads and writes.</summary>
public static class ColumnNames
{
    /// <summary>The class name; a key after <c>MapValueToKey</c>.</summary>
    public const string Label = "Label";

    /// <summary>The encoded image bytes (PNG, JPEG, ...), the classifier's feature column, named as in Model Builder.</summary>
    public const string ImageSource = "ImageSource";

    /// <summary>The class probabilities.</summary>
    public const string Score = "Score";

    /// <summary>The predicted class: a key from the classifier, a class name after <c>MapKeyToValue</c>.</summary>
    public const string PredictedLabel = "PredictedLabel";
}
