using Ghost.ML.Classification;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Scoring;

/// <summary>
/// A scoring model bound to one input schema: finds and checks the feature column, lays out the output schema
/// (input columns, then Score and PredictedLabel) and serves getters for the two output columns.
/// </summary>
internal sealed class ScoringBinding
{
    /// <summary>Binds <paramref name="model"/> to <paramref name="inputSchema"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The feature column is missing or has the wrong type.</exception>
    public ScoringBinding(ScoringModel model, ClassLabels classes, OutputColumns outputs, string featureColumnName, DataViewSchema inputSchema)
    {
        Model = model;
        InputSchema = inputSchema;
        FeatureColumn = inputSchema.GetColumnOrNull(featureColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Feature column '{featureColumnName}' was not found in the input schema.");
        model.Input.Format.CheckColumn(FeatureColumn);
        OutputSchema = outputs.Schema(inputSchema, classes);
    }

    /// <summary>The scoring model.</summary>
    public ScoringModel Model { get; }

    /// <summary>The input schema.</summary>
    public DataViewSchema InputSchema { get; }

    /// <summary>The output schema.</summary>
    public DataViewSchema OutputSchema { get; }

    /// <summary>The feature column of the input.</summary>
    public DataViewSchema.Column FeatureColumn { get; }

    /// <summary>Whether <paramref name="column"/> (of the output schema) is Score or PredictedLabel.</summary>
    public bool IsOutput(DataViewSchema.Column column) => column.Index >= InputSchema.Count;

    /// <summary>The input column an output-schema column passes through.</summary>
    public DataViewSchema.Column InputColumn(DataViewSchema.Column column) => InputSchema[column.Index];

    /// <summary>The input columns needed to produce <paramref name="columns"/> of the output schema.</summary>
    public IEnumerable<DataViewSchema.Column> Dependencies(IEnumerable<DataViewSchema.Column> columns)
    {
        var needed = columns.ToList();
        var passThrough = needed.Where(column => !IsOutput(column)).Select(InputColumn);
        return needed.Any(IsOutput) ? passThrough.Append(FeatureColumn).Distinct() : passThrough.Distinct();
    }

    /// <summary>
    /// A getter for Score (<c>VBuffer&lt;float&gt;</c>) or PredictedLabel (<c>uint</c>, 1-based key) that reads the
    /// current row's class probabilities from <paramref name="currentScores"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="TValue"/> is not the column's type.</exception>
    public ValueGetter<TValue> OutputGetter<TValue>(DataViewSchema.Column column, Func<ReadOnlyMemory<float>> currentScores)
    {
        Delegate getter = column.Index == InputSchema.Count
            ? (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) => CopyScores(currentScores().Span, ref value))
            : (ValueGetter<uint>)((ref uint value) => value = PredictedKey(currentScores().Span));
        return getter as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Column '{column.Name}' has type {column.Type}; a getter of {typeof(TValue).Name} was asked for.");
    }

    private static void CopyScores(ReadOnlySpan<float> scores, ref VBuffer<float> value)
    {
        var editor = VBufferEditor.Create(ref value, scores.Length);
        scores.CopyTo(editor.Values);
        value = editor.Commit();
    }

    private static uint PredictedKey(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best])
            {
                best = i;
            }
        }

        return (uint)best + 1;
    }
}
