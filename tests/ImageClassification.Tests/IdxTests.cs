using ImageClassification.Data;
using SkiaSharp;

namespace ImageClassification.Tests;

[TestClass]
public sealed class IdxTests
{
    [TestMethod]
    public void Reads_images_and_labels_from_gzip_files()
    {
        using var folder = new TempFolder();
        byte[] pixels = [.. Enumerable.Range(0, 3 * 2 * 4).Select(i => (byte)i)];
        TinyIdx.Write(folder.File("t10k-images-idx3-ubyte.gz"), [3, 2, 4], pixels);
        TinyIdx.Write(folder.File("t10k-labels-idx1-ubyte.gz"), [3], [9, 0, 4]);

        var images = FashionMnist.ReadTest(folder.Path);

        Assert.AreEqual(3, images.Count);
        Assert.AreEqual(2, images.Height);
        Assert.AreEqual(4, images.Width);
        Assert.AreEqual(4, images.LabelAt(2));
        CollectionAssert.AreEqual(pixels[8..16], images.PixelsAt(1).ToArray());
        Assert.AreEqual("t10k-images-idx3-ubyte.gz#1", images.NameOf(1));
        Assert.AreEqual("Ankle_boot", FashionMnist.ClassName(images.LabelAt(0)));
    }

    [TestMethod]
    public void A_truncated_file_is_reported()
    {
        using var folder = new TempFolder();
        TinyIdx.Write(folder.File("train-images-idx3-ubyte.gz"), [3, 2, 4], new byte[5]);
        TinyIdx.Write(folder.File("train-labels-idx1-ubyte.gz"), [3], [0, 1, 2]);

        var error = Assert.ThrowsExactly<SampleInputException>(() => FashionMnist.ReadTrain(folder.Path));

        StringAssert.Contains(error.Message, "is not a complete IDX file");
    }

    [TestMethod]
    public void Labels_outside_fashion_mnist_are_reported()
    {
        using var folder = new TempFolder();
        TinyIdx.Write(folder.File("train-images-idx3-ubyte.gz"), [1, 1, 1], [0]);
        TinyIdx.Write(folder.File("train-labels-idx1-ubyte.gz"), [1], [10]);

        var error = Assert.ThrowsExactly<SampleInputException>(() => FashionMnist.ReadTrain(folder.Path));

        StringAssert.StartsWith(error.Message, "train-images-idx3-ubyte.gz#0 has label 10");
    }

    [TestMethod]
    public void Grey_png_round_trips()
    {
        byte[] pixels = [.. Enumerable.Range(0, 6 * 5).Select(i => (byte)(i * 8))];

        using var bitmap = SKBitmap.Decode(GreyPng.Encode(pixels, width: 6, height: 5));

        Assert.AreEqual(6, bitmap.Width);
        Assert.AreEqual(5, bitmap.Height);
        Assert.AreEqual(new SKColor(pixels[13], pixels[13], pixels[13]), bitmap.GetPixel(1, 2));
    }
}
