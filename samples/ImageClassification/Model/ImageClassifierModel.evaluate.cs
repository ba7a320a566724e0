using Microsoft.ML;
using Microsoft.ML.Data;

namespace ImageClassification.Model;

/// <summary>The evaluation part: metrics of a trained pipeline on the test images.</summary>
internal static partial class ImageClassifierModel
{
    /// <summary>Scores the test images and computes ML.NET's multiclass metrics.</summary>
    public static ModelEvaluation Evaluate(MLContext mlContext, ITransformer model, IDataView testData)
    {
        var predictions = model.Transform(testData);
        var metrics = mlContext.MulticlassClassification.Evaluate(
            predictions, ColumnNames.Label, ColumnNames.Score, ColumnNames.PredictedLabel);
        return new ModelEvaluation(metrics, ClassNamesOf(predictions.Schema[ColumnNames.Label]));
    }

    // The confusion matrix is indexed by key, so its class names are the label's key values, in key order.
    private static string[] ClassNamesOf(DataViewSchema.Column label)
    {
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        label.GetKeyValues(ref keyValues);
        return [.. keyValues.DenseValues().Select(name => name.ToString())];
    }
}

/// <summary>The metrics of one trained model, with the class names in the confusion matrix's order.</summary>
internal sealed record ModelEvaluation(MulticlassClassificationMetrics Metrics, IReadOnlyList<string> ClassNames);
