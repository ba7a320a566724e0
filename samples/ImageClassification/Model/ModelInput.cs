using Microsoft.ML.Data;

namespace ImageClassification.Model;

/// <summary>One labelled image: the model's input, as in Model Builder's generated code.</summary>
public class ModelInput
{
    /// <summary>The class name (for a folder of images, the name of the image's class folder).</summary>
    [ColumnName(ColumnNames.Label)]
    public string Label { get; set; } = "";

    /// <summary>The image file, or for images held in memory a readable name such as <c>t10k-images-idx3-ubyte.gz#17</c>.</summary>
    [ColumnName(ColumnNames.ImagePath)]
    public string ImagePath { get; set; } = "";
}
