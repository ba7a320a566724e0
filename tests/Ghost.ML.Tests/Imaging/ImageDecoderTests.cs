using Ghost.ML.Imaging;
using SkiaSharp;

namespace Ghost.ML.Tests.Imaging;

[TestClass]
public sealed class ImageDecoderTests
{
    private const int Side = 64;

    [TestMethod]
    public void AGreyPngDecodesToItsOwnPixels()
    {
        var (png, pixels) = NoisyGreyPng();
        var decoded = new byte[Side * Side];

        bool grey = ImageDecoder.Decode(png, Side, Side, channels: 1, decoded);

        Assert.IsTrue(grey);
        CollectionAssert.AreEqual(pixels, decoded);
    }

    [TestMethod]
    [DataRow(2)]
    [DataRow(4)]
    public void APngCutShortIsRefused(int fraction)
    {
        var (png, _) = NoisyGreyPng();
        var truncated = png[..(png.Length - (png.Length / fraction))];

        var error = Assert.ThrowsExactly<InvalidDataException>(
            () => ImageDecoder.Decode(truncated, Side, Side, channels: 1, new byte[Side * Side]));

        StringAssert.Contains(error.Message, "damaged or cut short");
    }

    [TestMethod]
    public void BytesThatAreNoImageAreRefused()
    {
        Assert.ThrowsExactly<InvalidDataException>(
            () => ImageDecoder.Decode("not an image"u8, Side, Side, channels: 3, new byte[3 * Side * Side]));
    }

    /// <summary>A PNG of random grey pixels (so it compresses poorly and a cut removes rows), and those pixels.</summary>
    private static (byte[] Png, byte[] Pixels) NoisyGreyPng()
    {
        var pixels = new byte[Side * Side];
        new Random(7).NextBytes(pixels);
        using var bitmap = new SKBitmap(new SKImageInfo(Side, Side, SKColorType.Gray8, SKAlphaType.Opaque));
        pixels.CopyTo(bitmap.GetPixelSpan());
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return (data.ToArray(), pixels);
    }
}
