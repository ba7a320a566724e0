using System.Buffers.Binary;
using System.IO.Compression;

namespace ImageClassification.Tests;

/// <summary>Writes small gzip-compressed IDX files of unsigned bytes, for tests of the IDX path.</summary>
internal static class TinyIdx
{
    public static void Write(string path, int[] dimensions, byte[] values)
    {
        using var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        gzip.Write([0, 0, 0x08, (byte)dimensions.Length]);
        Span<byte> size = stackalloc byte[4];
        foreach (var dimension in dimensions)
        {
            BinaryPrimitives.WriteInt32BigEndian(size, dimension);
            gzip.Write(size);
        }

        gzip.Write(values);
    }

    /// <summary>
    /// Writes <c>{prefix}-images-idx3-ubyte.gz</c> and <c>{prefix}-labels-idx1-ubyte.gz</c>: <paramref name="perLabel"/>
    /// 8×8 images for each label, each label with its own brightness.
    /// </summary>
    public static void WriteImageSet(TempFolder folder, string prefix, int perLabel, params byte[] labels)
    {
        const int Size = TinyImages.Size;
        var count = perLabel * labels.Length;
        var pixels = new byte[count * Size * Size];
        var imageLabels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            imageLabels[i] = labels[i % labels.Length];
            pixels.AsSpan(i * Size * Size, Size * Size).Fill((byte)(30 + 20 * imageLabels[i] + i % 7));
        }

        Write(folder.File($"{prefix}-images-idx3-ubyte.gz"), [count, Size, Size], pixels);
        Write(folder.File($"{prefix}-labels-idx1-ubyte.gz"), [count], imageLabels);
    }
}
