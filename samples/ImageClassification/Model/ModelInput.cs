using Microsoft.ML.Data;

namespace ImageClassification.Model;

/// <summary>One labelled image: the model's input, as in Model Builder's generated image classification code.</summary>
public sealed class ModelInput
{
    /// <summary>The class name (for a folder of images, the name of the image's class folder); empty when predicting.</summary>
    [ColumnName(ColumnNames.Label)]
    public string Label { get; set; } = "";

    /// <summary>The encoded image: the bytes of a PNG, JPEG, BMP, GIF or WebP file.</summary>
    [ColumnName(ColumnNames.ImageSource)]
    public byte[] ImageSource { get; set; } = [];
}
