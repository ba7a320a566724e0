using SkiaSharp;

namespace ImageClassification.Data;

/// <summary>Encodes 8-bit grey pixels as PNG with SkiaSharp.</summary>
internal static class GreyPng
{
    /// <summary>The PNG bytes of a <paramref name="width"/> × <paramref name="height"/> grey image given row by row.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var image = SKImage.FromPixelCopy(info, pixels);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
