using System.Buffers.Binary;
using System.IO.Compression;

namespace ImageClassification.Data;

/// <summary>
/// An array of unsigned bytes in the IDX format of MNIST and Fashion-MNIST: a big-endian header
/// (two zero bytes, the type code 0x08, the number of dimensions, then each dimension) followed by the values.
/// </summary>
internal sealed class IdxArray
{
    private const byte UnsignedByteTypeCode = 0x08;

    private IdxArray(int[] dimensions, byte[] values)
    {
        Dimensions = dimensions;
        Values = values;
    }

    /// <summary>The size of each dimension, outermost first.</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The values in row-major order.</summary>
    public byte[] Values { get; }

    /// <summary>Reads an IDX file, gzip-compressed when its name ends in <c>.gz</c>.</summary>
    /// <exception cref="SampleInputException">The file is missing, truncated or not an IDX array of unsigned bytes.</exception>
    public static IdxArray Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new SampleInputException($"IDX file not found: {path}");
        }

        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionMode.Decompress)
            : file;
        try
        {
            return Read(stream, path);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new SampleInputException($"{path} is not a complete IDX file ({e.Message}).");
        }
    }

    private static IdxArray Read(Stream stream, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        stream.ReadExactly(magic);
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != UnsignedByteTypeCode || magic[3] == 0)
        {
            throw new SampleInputException($"{path} is not an IDX file of unsigned bytes.");
        }

        var dimensions = new int[magic[3]];
        Span<byte> size = stackalloc byte[4];
        long count = 1;
        for (var i = 0; i < dimensions.Length; i++)
        {
            stream.ReadExactly(size);
            dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(size);
            count *= dimensions[i];
        }

        if (count < 0 || count > Array.MaxLength)
        {
            throw new SampleInputException($"{path} declares an IDX array of {count} values, which this reader cannot hold.");
        }

        var values = new byte[count];
        stream.ReadExactly(values);
        return new IdxArray(dimensions, values);
    }
}
