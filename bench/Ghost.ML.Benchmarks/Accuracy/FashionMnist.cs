using System.Buffers.Binary;
using System.IO.Compression;
using static TorchSharp.torch;

namespace Ghost.ML.Benchmarks.Accuracy;

/// <summary>Fashion-MNIST from its gzip-compressed IDX files, as normalised image and label tensors.</summary>
/// <param name="Images">Images <c>[N, 1, 28, 28]</c>, standardised with the training set's mean and deviation.</param>
/// <param name="Labels">Class indices <c>[N]</c>.</param>
internal sealed record FashionMnist(Tensor Images, Tensor Labels)
{
    // Mean and standard deviation of the Fashion-MNIST training pixels on the [0, 1] scale.
    private const double PixelMean = 0.2860;
    private const double PixelDeviation = 0.3530;

    /// <summary>Loads the training or test split from <paramref name="directory"/>, at most <paramref name="limit"/> images.</summary>
    /// <exception cref="FileNotFoundException">A file of the split is missing.</exception>
    public static FashionMnist Load(string directory, bool training, int? limit)
    {
        var prefix = training ? "train" : "t10k";
        var pixels = ReadIdx(Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz"), 2051, out var imageDims);
        var labels = ReadIdx(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"), 2049, out _);
        var count = Math.Min(imageDims[0], limit ?? int.MaxValue);
        var size = imageDims[1] * imageDims[2];
        var images = tensor(pixels.AsSpan(0, count * size).ToArray(), [count, 1, imageDims[1], imageDims[2]])
            .to_type(ScalarType.Float32).div_(255).sub_(PixelMean).div_(PixelDeviation);
        return new FashionMnist(images, tensor(labels.AsSpan(0, count).ToArray()).to_type(ScalarType.Int64));
    }

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
