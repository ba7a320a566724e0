using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Classification;

/// <summary>
/// The classes a model predicts: their count and, when the training label had them, the key values (the original
/// label values, e.g. class names) with their type. Builds the annotations ML.NET's scorers put on Score and
/// PredictedLabel, and round-trips the values as invariant text for the saved model.
/// </summary>
internal sealed class ClassLabels
{
    public const string KeyValuesKind = "KeyValues";
    public const string SlotNamesKind = "SlotNames";
    public const string TrainingLabelValuesKind = "TrainingLabelValues";
    public const string ScoreColumnKindKind = "ScoreColumnKind";
    public const string ScoreValueKindKind = "ScoreValueKind";
    private const string MulticlassClassification = "MulticlassClassification";
    private const string ScoreValue = "Score";

    private static readonly MethodInfo s_readValues = typeof(ClassLabels).GetMethod(nameof(ReadValues), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo s_addValues = typeof(ClassLabels).GetMethod(nameof(AddValues), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Creates the description.</summary>
    /// <param name="count">Number of classes.</param>
    /// <param name="valueType">Item type of the key values (Text or a primitive), or null when there are none.</param>
    /// <param name="values">The key values as invariant text, one per class, or null.</param>
    public ClassLabels(int count, DataViewType? valueType, IReadOnlyList<string>? values)
    {
        Count = count;
        ValueType = valueType is not null && values is not null ? valueType : null;
        Values = ValueType is null ? null : [.. values!];
    }

    /// <summary>Number of classes.</summary>
    public int Count { get; }

    /// <summary>Item type of the key values, or null.</summary>
    public DataViewType? ValueType { get; }

    /// <summary>The key values as invariant text, or null.</summary>
    public IReadOnlyList<string>? Values { get; }

    /// <summary>The PredictedLabel column's type: a UInt32 key of <see cref="Count"/> classes.</summary>
    public KeyDataViewType PredictedLabelType => new(typeof(uint), Count);

    /// <summary>The Score column's type: <see cref="Count"/> Singles.</summary>
    public VectorDataViewType ScoreType => new(NumberDataViewType.Single, Count);

    /// <summary>Describes the classes of a key-typed label column, keeping its key values when they are text or a primitive type.</summary>
    public static ClassLabels FromLabelColumn(DataViewSchema.Column label)
    {
        int count = (int)((KeyDataViewType)label.Type).Count;
        var keyValues = label.Annotations.Schema.GetColumnOrNull(KeyValuesKind);
        if (keyValues?.Type is not VectorDataViewType { ItemType: var itemType } || !IsSupported(itemType))
        {
            return new ClassLabels(count, null, null);
        }

        var values = (string[])s_readValues.MakeGenericMethod(itemType.RawType).Invoke(null, [label.Annotations])!;
        return new ClassLabels(count, itemType, values);
    }

    /// <summary>The item type named <paramref name="name"/> (Text or a primitive number/boolean), as saved.</summary>
    public static DataViewType? TypeFromName(string? name) => name is null ? null : SupportedTypes().FirstOrDefault(type => type.RawType.Name == name);

    /// <summary>The name <see cref="TypeFromName"/> reads back.</summary>
    public static string? NameOfType(DataViewType? type) => type?.RawType.Name;

    /// <summary>Annotations for PredictedLabel: the key values, so that MapKeyToValue restores the labels.</summary>
    public DataViewSchema.Annotations PredictedLabelAnnotations()
    {
        var builder = new DataViewSchema.Annotations.Builder();
        AddKeyValues(builder, KeyValuesKind);
        return builder.ToAnnotations();
    }

    /// <summary>Annotations for Score, as ML.NET's multiclass scorer writes them.</summary>
    public DataViewSchema.Annotations ScoreAnnotations()
    {
        var builder = new DataViewSchema.Annotations.Builder();
        if (Values is not null)
        {
            var names = Values.Select(value => value.AsMemory()).ToArray();
            builder.Add(SlotNamesKind, new VectorDataViewType(TextDataViewType.Instance, Count),
                (ref VBuffer<ReadOnlyMemory<char>> destination) => new VBuffer<ReadOnlyMemory<char>>(names.Length, names).CopyTo(ref destination));
            AddKeyValues(builder, TrainingLabelValuesKind);
        }

        builder.Add(ScoreColumnKindKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = MulticlassClassification.AsMemory());
        builder.Add(ScoreValueKindKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = ScoreValue.AsMemory());
        return builder.ToAnnotations();
    }

    private void AddKeyValues(DataViewSchema.Annotations.Builder builder, string kind)
    {
        if (ValueType is not null && Values is not null)
        {
            s_addValues.MakeGenericMethod(ValueType.RawType).Invoke(null, [builder, kind, ValueType, Values]);
        }
    }

    private static bool IsSupported(DataViewType type) => SupportedTypes().Any(supported => supported.Equals(type));

    private static IEnumerable<DataViewType> SupportedTypes() =>
    [
        TextDataViewType.Instance, BooleanDataViewType.Instance,
        NumberDataViewType.Single, NumberDataViewType.Double,
        NumberDataViewType.SByte, NumberDataViewType.Int16, NumberDataViewType.Int32, NumberDataViewType.Int64,
        NumberDataViewType.Byte, NumberDataViewType.UInt16, NumberDataViewType.UInt32, NumberDataViewType.UInt64,
    ];

    private static string[] ReadValues<T>(DataViewSchema.Annotations annotations)
    {
        VBuffer<T> values = default;
        annotations.GetValue(KeyValuesKind, ref values);
        return [.. values.DenseValues().Select(value => value switch
        {
            ReadOnlyMemory<char> text => text.ToString(),
            IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
            _ => value?.ToString() ?? string.Empty,
        })];
    }

    private static void AddValues<T>(DataViewSchema.Annotations.Builder builder, string kind, DataViewType itemType, IReadOnlyList<string> text)
    {
        var values = text.Select(Parse<T>).ToArray();
        builder.Add(kind, new VectorDataViewType((PrimitiveDataViewType)itemType, values.Length),
            (ref VBuffer<T> destination) => new VBuffer<T>(values.Length, values).CopyTo(ref destination));
    }

    /// <summary>The first of <paramref name="values"/> that is not a value of <paramref name="type"/> (as saved), or null.</summary>
    public static string? FirstInvalidValue(DataViewType type, IEnumerable<string> values) => values.FirstOrDefault(text =>
    {
        try
        {
            ParseNumber(text, type.RawType);
            return false;
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            return true;
        }
    });

    private static T Parse<T>(string text) => typeof(T) == typeof(ReadOnlyMemory<char>)
        ? (T)(object)text.AsMemory()
        : (T)ParseNumber(text, typeof(T));

    /// <summary>Text as <paramref name="type"/> (any text is a valid Text value).</summary>
    /// <exception cref="FormatException">The text is not such a value.</exception>
    /// <exception cref="OverflowException">The value is out of the type's range.</exception>
    private static object ParseNumber(string text, Type type) =>
        type == typeof(ReadOnlyMemory<char>) ? text : Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
}
