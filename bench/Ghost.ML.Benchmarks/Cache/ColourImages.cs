using Ghost.ML.Benchmarks.Estimators;
using Microsoft.ML;
using SkiaSharp;

namespace Ghost.ML.Benchmarks.Cache;

/// <summary>Random colour images as PNG files in an ML.NET data view, the form <c>LoadRawImageBytes</c> gives the estimators.</summary>
internal static class ColourImages
{
    /// <summary>
    /// <paramref name="count"/> PNG images of <paramref name="size"/>×<paramref name="size"/> random RGB pixels in ten
    /// classes, with a key-typed <c>Label</c> and the encoded bytes in <c>Features</c>.
    /// </summary>
    public static IDataView ToDataView(MLContext mlContext, int count, int size)
    {
        var info = new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var images = Enumerable.Range(0, count).AsParallel().AsOrdered().Select(index =>
        {
            var pixels = new byte[size * size * 4];
            new Random(index).NextBytes(pixels);
            using var image = SKImage.FromPixelCopy(info, pixels);
            using var png = image.Encode(SKEncodedImageFormat.Png, 100);
            return ($"class {index % 10}", png.ToArray());
        }).ToList();
        return EncodedImages.ToDataView(mlContext, images);
    }
}
