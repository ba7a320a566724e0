using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Classification;

/// <summary>
/// Creates <see cref="SchemaShape.Column"/> values. Their constructor is internal to ML.NET, yet
/// <see cref="IEstimator{TTransformer}.GetOutputSchema"/> must describe new columns (EstimatorChain and MapKeyToValue
/// read them before fitting), so it is reached once through reflection and cached.
/// </summary>
internal static class SchemaShapeColumns
{
    private static readonly ConstructorInfo s_constructor =
        typeof(SchemaShape.Column).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null,
            [typeof(string), typeof(SchemaShape.Column.VectorKind), typeof(DataViewType), typeof(bool), typeof(SchemaShape)], null)
        ?? throw new MissingMethodException(
            "This version of Microsoft.ML has no SchemaShape.Column(string, VectorKind, DataViewType, bool, SchemaShape) constructor; Ghost.ML needs Microsoft.ML 5.x.");

    /// <summary>A column shape.</summary>
    public static SchemaShape.Column Create(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey, SchemaShape? annotations = null) =>
        (SchemaShape.Column)s_constructor.Invoke([name, kind, itemType, isKey, annotations]);

    /// <summary><paramref name="input"/> with <paramref name="added"/> appended; an added column replaces one of the same name.</summary>
    public static SchemaShape Append(SchemaShape input, params SchemaShape.Column[] added) =>
        new(input.Where(column => !added.Any(addedColumn => addedColumn.Name == column.Name)).Concat(added));
}
