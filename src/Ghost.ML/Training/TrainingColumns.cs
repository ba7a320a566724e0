using Ghost.ML.Features;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Training;

/// <summary>Finds and checks the label and feature columns of training, validation and scoring data.</summary>
internal sealed class TrainingColumns
{
    /// <summary>Creates the checker.</summary>
    public TrainingColumns(string labelColumnName, string featureColumnName, FeatureFormat format)
    {
        LabelColumnName = labelColumnName;
        FeatureColumnName = featureColumnName;
        Format = format;
    }

    /// <summary>The label column's name.</summary>
    public string LabelColumnName { get; }

    /// <summary>The feature column's name.</summary>
    public string FeatureColumnName { get; }

    /// <summary>What the feature column must hold.</summary>
    public FeatureFormat Format { get; }

    /// <summary>The feature column of <paramref name="schema"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">It is missing or has the wrong type.</exception>
    public DataViewSchema.Column Feature(DataViewSchema schema, string role)
    {
        var column = Find(schema, FeatureColumnName, "Feature", role);
        Format.CheckColumn(column);
        return column;
    }

    /// <summary>The label column of <paramref name="schema"/>: a key type of UInt32 with at least two classes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">It is missing or not such a key.</exception>
    public DataViewSchema.Column Label(DataViewSchema schema, string role)
    {
        var column = Find(schema, LabelColumnName, "Label", role);
        CheckLabelType(column.Name, column.Type);
        return column;
    }

    /// <summary>Checks the columns of an estimator's input schema shape.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public void Check(SchemaShape inputSchema)
    {
        if (!TryFind(inputSchema, LabelColumnName, out var label))
        {
            throw Missing(LabelColumnName, "Label", "input schema");
        }

        // A schema shape describes a key by its raw type and IsKey; the class count is only known from the data.
        if (label.Kind != SchemaShape.Column.VectorKind.Scalar || !label.IsKey || label.ItemType.RawType != typeof(uint))
        {
            throw NotAKey(label.Name, label.ItemType);
        }

        if (!TryFind(inputSchema, FeatureColumnName, out var feature))
        {
            throw Missing(FeatureColumnName, "Feature", "input schema");
        }

        Format.CheckColumn(feature.Name, feature.Kind, feature.ItemType, $"{feature.Kind} of {feature.ItemType}");
    }

    /// <summary>The class count: the cardinality of the label's key type.</summary>
    public static int ClassCount(DataViewSchema.Column label) => (int)((KeyDataViewType)label.Type).Count;

    private static void CheckLabelType(string name, DataViewType type)
    {
        if (type is not KeyDataViewType key || key.RawType != typeof(uint))
        {
            throw NotAKey(name, type);
        }

        if (key.Count < 2 || key.Count > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(type), $"Label column '{name}' has {key.Count} class(es); a classifier needs at least two.");
        }
    }

    private static DataViewSchema.Column Find(DataViewSchema schema, string name, string kind, string role) =>
        schema.GetColumnOrNull(name) ?? throw Missing(name, kind, role);

    private static bool TryFind(SchemaShape shape, string name, out SchemaShape.Column column)
    {
        column = shape.LastOrDefault(candidate => candidate.Name == name);
        return column.Name == name;
    }

    private static ArgumentOutOfRangeException Missing(string name, string kind, string role) =>
        new(nameof(name), $"{kind} column '{name}' was not found in the {role}."
            + (role == "validation set" ? " Pass the validation set through the same preprocessing as the training data (e.g. MapValueToKey and LoadRawImageBytes) first." : string.Empty));

    private static ArgumentOutOfRangeException NotAKey(string name, DataViewType type) =>
        new(nameof(type), $"Label column '{name}' must be a key type of UInt32, as MapValueToKey produces; it is {type}.");
}
