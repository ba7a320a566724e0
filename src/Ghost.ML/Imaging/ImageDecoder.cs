using SkiaSharp;

namespace Ghost.ML.Imaging;

/// <summary>
/// Decodes encoded images (PNG, JPEG, BMP, GIF, WebP: whatever SkiaSharp's codecs read) and resizes them to a fixed
/// size, writing channel-major (C×H×W) bytes: one channel for grey, three (R, G, B) for colour.
/// </summary>
internal static class ImageDecoder
{
    /// <summary>
    /// Decodes <paramref name="encoded"/>, resizes it to <paramref name="width"/>×<paramref name="height"/> with a
    /// high-quality filter and writes <paramref name="channels"/>×height×width bytes to <paramref name="destination"/>.
    /// Colour images become grey by luminance when one channel is asked for; grey images are replicated to three.
    /// </summary>
    /// <returns>Whether the image is stored as greyscale.</returns>
    /// <exception cref="InvalidDataException">The bytes are not an image SkiaSharp can decode.</exception>
    public static bool Decode(ReadOnlySpan<byte> encoded, int width, int height, int channels, Span<byte> destination)
    {
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images have one (grey) or three (RGB) channels.");
        }

        int plane = width * height;
        if (destination.Length != channels * plane)
        {
            throw new ArgumentException($"The destination must hold {channels * plane} bytes.", nameof(destination));
        }

        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data) ?? throw NotAnImage(encoded.Length);
        using var source = DecodeWhole(codec, encoded.Length);
        var colorType = channels == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888;
        using var resized = new SKBitmap(new SKImageInfo(width, height, colorType, SKAlphaType.Opaque));
        // Mitchell's cubic filter is what SkiaSharp's former "high" filter quality chose.
        if (!source.ScalePixels(resized, new SKSamplingOptions(SKCubicResampler.Mitchell)))
        {
            throw new InvalidDataException($"The image ({source.Width}×{source.Height}, {source.ColorType}) could not be resized to {width}×{height}.");
        }

        var pixels = resized.GetPixelSpan();
        if (channels == 1)
        {
            pixels[..plane].CopyTo(destination);
            return IsGreyscale(codec);
        }

        // Skia stores pixels interleaved (RGBA); the network wants one plane per channel.
        for (int i = 0; i < plane; i++)
        {
            destination[i] = pixels[4 * i];
            destination[plane + i] = pixels[(4 * i) + 1];
            destination[(2 * plane) + i] = pixels[(4 * i) + 2];
        }

        return IsGreyscale(codec);
    }

    /// <summary>
    /// Decodes every pixel of the image. <c>SKBitmap.Decode</c> also returns images the codec could only partly
    /// read (a file cut short decodes with its missing rows left black): those are refused here.
    /// </summary>
    private static SKBitmap DecodeWhole(SKCodec codec, int length)
    {
        var info = codec.Info;
        if (info.ColorType is not (SKColorType.Gray8 or SKColorType.Rgba8888 or SKColorType.Bgra8888))
        {
            info = info.WithColorType(SKImageInfo.PlatformColorType);
        }

        if (info.AlphaType == SKAlphaType.Unpremul)
        {
            info = info.WithAlphaType(SKAlphaType.Premul);
        }

        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw result is SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput
                ? new InvalidDataException($"The image ({codec.EncodedFormat}, {info.Width}×{info.Height}, {length} bytes) is damaged or cut short: the decoder reported {result}.")
                : NotAnImage(length);
        }

        return bitmap;
    }

    private static bool IsGreyscale(SKCodec codec) => codec.Info.ColorType is SKColorType.Gray8 or SKColorType.Alpha8;

    private static InvalidDataException NotAnImage(int length) =>
        new($"The {length} bytes are not an image SkiaSharp can decode (PNG, JPEG, BMP, GIF or WebP expected).");
}
