using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Classification;

/// <summary>The two columns a classifier adds: Score (class probabilities) and PredictedLabel (a key with the label's values).</summary>
internal sealed class OutputColumns
{
    /// <summary>Creates the description.</summary>
    public OutputColumns(string scoreColumnName, string predictedLabelColumnName)
    {
        ScoreColumnName = scoreColumnName;
        PredictedLabelColumnName = predictedLabelColumnName;
    }

    /// <summary>Name of the Score column.</summary>
    public string ScoreColumnName { get; }

    /// <summary>Name of the PredictedLabel column.</summary>
    public string PredictedLabelColumnName { get; }

    /// <summary>The schema after scoring: the input columns, then Score, then PredictedLabel.</summary>
    public DataViewSchema Schema(DataViewSchema input, ClassLabels classes)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        builder.AddColumn(ScoreColumnName, classes.ScoreType, classes.ScoreAnnotations());
        builder.AddColumn(PredictedLabelColumnName, classes.PredictedLabelType, classes.PredictedLabelAnnotations());
        return builder.ToSchema();
    }

    /// <summary>The schema shape after scoring, for an estimator whose label column has shape <paramref name="label"/>.</summary>
    public SchemaShape Shape(SchemaShape input, SchemaShape.Column label)
    {
        var text = TextDataViewType.Instance;
        var scoreAnnotations = new List<SchemaShape.Column>
        {
            SchemaShapeColumns.Create(ClassLabels.ScoreColumnKindKind, SchemaShape.Column.VectorKind.Scalar, text, false),
            SchemaShapeColumns.Create(ClassLabels.ScoreValueKindKind, SchemaShape.Column.VectorKind.Scalar, text, false),
        };
        if (label.Annotations.FirstOrDefault(annotation => annotation.Name == ClassLabels.KeyValuesKind) is { Name: not null } keyValues)
        {
            scoreAnnotations.Add(SchemaShapeColumns.Create(ClassLabels.SlotNamesKind, SchemaShape.Column.VectorKind.Vector, text, false));
            scoreAnnotations.Add(SchemaShapeColumns.Create(ClassLabels.TrainingLabelValuesKind, SchemaShape.Column.VectorKind.Vector, keyValues.ItemType, false));
        }

        return SchemaShapeColumns.Append(input,
            SchemaShapeColumns.Create(ScoreColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false, new SchemaShape(scoreAnnotations)),
            SchemaShapeColumns.Create(PredictedLabelColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, label.Annotations));
    }
}
