using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Ghost.ML.Features;

/// <summary>
/// How the values of a feature column become samples for the network: which column types it reads, the shape of
/// one sample, and how stored samples (bytes or floats, as kept in memory) become float input.
/// </summary>
internal abstract class FeatureFormat
{
    /// <summary>Shape of one sample as the network sees it, e.g. [C, H, W].</summary>
    public abstract long[] SampleShape { get; }

    /// <summary>Elements in one sample.</summary>
    public long SampleSize => SampleShape.Aggregate(1L, (size, dimension) => size * dimension);

    /// <summary>Element type of stored samples: bytes for decoded images, Single for float vectors.</summary>
    public abstract ScalarType StoredType { get; }

    /// <summary>Bytes of one stored sample.</summary>
    public long StoredSampleBytes => SampleSize * (StoredType == ScalarType.Byte ? 1 : sizeof(float));

    /// <summary>Whether samples are images (C×H×W), so that image augmentation applies.</summary>
    public bool IsImageShaped => SampleShape.Length == 3;

    /// <summary>What the column must hold, for error messages, e.g. "encoded image bytes (VarVector&lt;Byte&gt;)".</summary>
    public abstract string Expected { get; }

    /// <summary>Whether a column of this kind and item type can feed the format (the size is checked per row).</summary>
    public abstract bool Accepts(SchemaShape.Column.VectorKind kind, DataViewType itemType);

    /// <summary>A reader that gathers the column's values row by row and turns them into sample batches.</summary>
    public abstract FeatureBatchReader CreateReader(DataViewRow row, DataViewSchema.Column column);

    /// <summary>Converts stored samples to float network input on the same device.</summary>
    public abstract Tensor ToFloat(Tensor stored);

    /// <summary>Throws unless <paramref name="column"/> can feed the format.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column has the wrong type.</exception>
    public void CheckColumn(DataViewSchema.Column column)
    {
        var (kind, itemType) = column.Type is VectorDataViewType vector
            ? (vector.IsKnownSize ? SchemaShape.Column.VectorKind.Vector : SchemaShape.Column.VectorKind.VariableVector, vector.ItemType)
            : (SchemaShape.Column.VectorKind.Scalar, column.Type);
        CheckColumn(column.Name, kind, itemType, column.Type.ToString() ?? column.Type.GetType().Name);
    }

    /// <summary>Throws unless a column of this kind and item type can feed the format.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column has the wrong type.</exception>
    public void CheckColumn(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, string typeName)
    {
        if (!Accepts(kind, itemType))
        {
            throw new ArgumentOutOfRangeException(nameof(name), $"Feature column '{name}' must hold {Expected}; it is {typeName}.");
        }
    }
}
