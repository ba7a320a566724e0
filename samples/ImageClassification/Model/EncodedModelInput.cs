using Microsoft.ML.Data;

namespace ImageClassification.Model;

/// <summary>A labelled image already encoded in memory (PNG bytes), for data that does not come as files, such as IDX.</summary>
public sealed class EncodedModelInput : ModelInput
{
    /// <summary>The encoded image, the column that <c>LoadRawImageBytes</c> produces for image files.</summary>
    [ColumnName(ColumnNames.ImageBytes)]
    public byte[] ImageBytes { get; set; } = [];
}
