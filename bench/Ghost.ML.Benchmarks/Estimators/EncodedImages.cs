using Ghost.ML.Benchmarks.Data;
using Microsoft.ML;
using SkiaSharp;

namespace Ghost.ML.Benchmarks.Estimators;

/// <summary>Grey images as an ML.NET data view of PNG files, the form <c>LoadRawImageBytes</c> gives the estimators.</summary>
internal static class EncodedImages
{
    /// <summary>A PNG-encoded image and its class name.</summary>
    private sealed class Row
    {
        public string Label { get; init; } = "";

        public byte[] Features { get; init; } = [];
    }

    /// <summary>
    /// Encodes every image as PNG and returns a view with a key-typed <c>Label</c> (<c>MapValueToKey</c>) and the
    /// encoded bytes in <c>Features</c>.
    /// </summary>
    public static IDataView ToDataView(MLContext mlContext, GreyImages images)
    {
        var info = new SKImageInfo(images.Width, images.Height, SKColorType.Gray8, SKAlphaType.Opaque);
        var rows = Enumerable.Range(0, images.Count).Select(index =>
        {
            using var image = SKImage.FromPixelCopy(info, images.Image(index));
            using var png = image.Encode(SKEncodedImageFormat.Png, 100);
            return ($"class {images.Labels[index]}", png.ToArray());
        });
        return ToDataView(mlContext, rows);
    }

    /// <summary>Encoded images and their class names as a view with a key-typed <c>Label</c> and the bytes in <c>Features</c>.</summary>
    public static IDataView ToDataView(MLContext mlContext, IEnumerable<(string Label, byte[] Encoded)> images)
    {
        var view = mlContext.Data.LoadFromEnumerable(images.Select(image => new Row { Label = image.Label, Features = image.Encoded }).ToList());
        return mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(view).Transform(view);
    }
}
