using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Microsoft.ML.Transforms.Onnx;

namespace OnnxConsumption.Tests;

/// <summary>A row to score: the image's file name, relative to the image folder.</summary>
public sealed class ImageInput
{
    public string ImagePath { get; set; } = string.Empty;
}

/// <summary>The model's output: class probabilities, one per class name.</summary>
public sealed class ScoreOutput
{
    [ColumnName("Score")]
    public float[] Score { get; set; } = [];
}

/// <summary>
/// The stock ML.NET chain that feeds an exported Ghost.ML image classifier: image files in, probabilities out.
/// Every transform in it is ML.NET's own, so the fitted chain saves and loads with <c>mlContext.Model.Save/Load</c>.
/// </summary>
internal static class ImagePipeline
{
    public static EstimatorChain<OnnxTransformer> Create(MLContext mlContext, string imageFolder, string modelPath, ExportedClassifier model) =>
        // LoadImages takes paths, not bytes: the images must be files (in imageFolder).
        mlContext.Transforms.LoadImages("Image", imageFolder, nameof(ImageInput.ImagePath))
            // Fill stretches to the model's size, as Ghost.ML's decoder does; the default (IsoCrop) would crop instead.
            .Append(mlContext.Transforms.ResizeImages("Image", model.Width, model.Height, resizing: ImageResizingEstimator.ResizingKind.Fill))
            .Append(ExtractPixels(mlContext, model.Channels))
            .Append(mlContext.Transforms.ApplyOnnxModel("Score", "input", modelPath));

    /// <summary>Pixels 0-255 as channel planes (not interleaved), in the model's channels; the scaling is inside the model.</summary>
    private static IEstimator<ITransformer> ExtractPixels(MLContext mlContext, int channels) => channels == 1
        ? mlContext.Transforms.ConvertToGrayscale("Image")
            .Append(mlContext.Transforms.ExtractPixels("input", "Image", ImagePixelExtractingEstimator.ColorBits.Red))
        : mlContext.Transforms.ExtractPixels("input", "Image", ImagePixelExtractingEstimator.ColorBits.Rgb,
            ImagePixelExtractingEstimator.ColorsOrder.ARGB, interleavePixelColors: false);
}
