using System.Buffers.Binary;
using System.IO.Compression;
using static TorchSharp.torch;

namespace Ghost.ML.Benchmarks.Data;

/// <summary>Grey images as raw pixel bytes (row-major, one byte per pixel) with a class index per image.</summary>
/// <param name="Pixels">Count × Height × Width bytes.</param>
/// <param name="Labels">One class index (0–9) per image.</param>
/// <param name="Height">Image height.</param>
/// <param name="Width">Image width.</param>
/// <param name="Source">Where the images come from, for reports.</param>
internal sealed record GreyImages(byte[] Pixels, byte[] Labels, int Height, int Width, string Source)
{
    // Mean and standard deviation of the Fashion-MNIST training pixels on the [0, 1] scale.
    private const double PixelMean = 0.2860;
    private const double PixelDeviation = 0.3530;

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Loads the training or test split of Fashion-MNIST from its gzip-compressed IDX files, at most <paramref name="limit"/> images.</summary>
    /// <exception cref="FileNotFoundException">A file of the split is missing.</exception>
    public static GreyImages FashionMnist(string directory, bool training, int? limit)
    {
        var prefix = training ? "train" : "t10k";
        var pixels = ReadIdx(Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz"), 2051, out var imageDims);
        var labels = ReadIdx(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"), 2049, out _);
        var count = Math.Min(imageDims[0], limit ?? int.MaxValue);
        var size = imageDims[1] * imageDims[2];
        return new GreyImages(pixels[..(count * size)], labels[..count], imageDims[1], imageDims[2], $"Fashion-MNIST ({Path.GetFullPath(directory)})");
    }

    /// <summary>Fashion-MNIST's first <paramref name="count"/> training images when <paramref name="directory"/> holds them, else random 28×28 images.</summary>
    public static GreyImages FashionMnistOrRandom(string directory, int count) =>
        File.Exists(Path.Combine(directory, "train-images-idx3-ubyte.gz")) ? FashionMnist(directory, training: true, count) : Random(count, 28, 28);

    /// <summary>Uniformly random pixels and labels, the same for every call.</summary>
    public static GreyImages Random(int count, int height, int width)
    {
        var random = new System.Random(1);
        var pixels = new byte[count * height * width];
        random.NextBytes(pixels);
        return new GreyImages(pixels, Enumerable.Range(0, count).Select(_ => (byte)random.Next(10)).ToArray(), height, width, "random pixels");
    }

    /// <summary>The images as a float tensor <c>[N, 1, H, W]</c>, standardised with Fashion-MNIST's pixel mean and deviation.</summary>
    public Tensor StandardizedImages() => tensor(Pixels, [Count, 1, Height, Width])
        .to_type(ScalarType.Float32).div_(255).sub_(PixelMean).div_(PixelDeviation);

    /// <summary>The class indices as an Int64 tensor <c>[N]</c>.</summary>
    public Tensor LabelTensor() => tensor(Labels).to_type(ScalarType.Int64);

    /// <summary>The pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * Height * Width, Height * Width);

    private static byte[] ReadIdx(string path, int magic, out int[] dims)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var bytes = memory.ToArray();
        if (BinaryPrimitives.ReadInt32BigEndian(bytes) != magic)
        {
            throw new InvalidDataException($"{path} is not an IDX file of the expected kind (magic {magic}).");
        }

        var rank = magic & 0xFF;
        dims = Enumerable.Range(0, rank).Select(i => BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i))).ToArray();
        return bytes[(4 + 4 * rank)..];
    }
}
