using System.Collections;
using System.Text;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Models;

/// <summary>The file formats a state_dict can come in, told apart by their first bytes, not their extension.</summary>
public enum StateDictFormat
{
    /// <summary>PyTorch's <c>torch.save(model.state_dict(), path)</c>: a zip archive holding a pickle (PyTorch 1.6 and later).</summary>
    PyTorch,

    /// <summary>A <c>.safetensors</c> file: an 8-byte header length, a JSON header, then the raw tensors.</summary>
    Safetensors,

    /// <summary>TorchSharp's <c>module.save(path)</c> format (<c>.dat</c>).</summary>
    TorchSharp,
}

/// <summary>Reads a state_dict (parameter and buffer name → tensor) from a PyTorch, safetensors or TorchSharp file.</summary>
public static class StateDictFile
{
    private const byte PickleProtocolOpcode = 0x80;

    /// <summary>
    /// After the protocol opcode and version, PyTorch's legacy format pickles its magic number 0x1950a86a20f9469cfc6c
    /// as a LONG1 (0x8A, 10 bytes, little-endian); its first bytes tell the format apart from a TorchSharp file whose
    /// entry count (a 7-bit encoded integer such as 0x80 0x01 for 128) starts the same way.
    /// </summary>
    private static ReadOnlySpan<byte> LegacyMagicNumber => [0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9];

    /// <summary>Tells the format of the file at <paramref name="path"/> from its first bytes.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is none of the <see cref="StateDictFormat"/>s.</exception>
    public static StateDictFormat DetectFormat(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = OpenForReading(path);
        Span<byte> head = stackalloc byte[9];
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..read];
        if (head.StartsWith("PK\u0003\u0004"u8))
        {
            return StateDictFormat.PyTorch;
        }

        if (head.Length == 9 && head[0] == PickleProtocolOpcode && head[1] <= 5 && head[2..].SequenceEqual(LegacyMagicNumber))
        {
            throw new InvalidDataException(
                $"'{path}' was written in PyTorch's legacy format (before PyTorch 1.6, or with _use_new_zipfile_serialization=False), which cannot be read here. Load it in PyTorch and save it again with torch.save(model.state_dict(), path).");
        }

        if (head.Length == 9 && head[8] == (byte)'{' && BitConverter.ToUInt64(head[..8]) < (ulong)stream.Length)
        {
            return StateDictFormat.Safetensors;
        }

        if (read > 0)
        {
            return StateDictFormat.TorchSharp;
        }

        throw new InvalidDataException($"'{path}' is empty: expected a PyTorch (.pt, .pth), safetensors or TorchSharp (.dat) state_dict.");
    }

    /// <summary>Reads every tensor of the state_dict at <paramref name="path"/>, on the CPU.</summary>
    /// <returns>The tensors by name, in the file's order. The caller owns (and disposes) them.</returns>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a state_dict in a format this reads, or it is damaged.</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        var format = DetectFormat(path);
        try
        {
            return format switch
            {
                StateDictFormat.PyTorch => ReadPyTorch(path),
                StateDictFormat.Safetensors => Safetensors.LoadStateDict(path),
                _ => ReadTorchSharp(path),
            };
        }
        catch (Exception error) when (error is not (InvalidDataException or OutOfMemoryException))
        {
            // The readers report damage with whatever their parser met (end of stream, pickle, JSON, native errors).
            throw new InvalidDataException($"'{path}' could not be read as a {format} state_dict: {error.Message}", error);
        }
    }

    private static Dictionary<string, Tensor> ReadPyTorch(string path)
    {
        var entries = PyTorchUnpickler.UnpickleStateDict(path);
        var stateDict = new Dictionary<string, Tensor>(entries.Count);
        foreach (DictionaryEntry entry in entries)
        {
            if (entry.Key is not string name || entry.Value is not Tensor tensor)
            {
                throw new InvalidDataException(
                    $"'{path}' holds a '{entry.Value?.GetType().Name}' under '{entry.Key}': expected a state_dict of tensors. Save the model with torch.save(model.state_dict(), path), not the whole model or a training checkpoint.");
            }

            stateDict.Add(name, tensor);
        }

        return stateDict;
    }

    private static Dictionary<string, Tensor> ReadTorchSharp(string path)
    {
        using var stream = OpenForReading(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        long count = reader.Read7BitEncodedInt64();
        if (count < 0 || count > stream.Length)
        {
            throw new InvalidDataException($"'{path}' is not a TorchSharp state_dict (module.save): its entry count {count} does not fit a file of {stream.Length} bytes.");
        }

        var stateDict = new Dictionary<string, Tensor>((int)count);
        for (long i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            CheckTensorFits(reader, path, name);
            stateDict.Add(name, Tensor.Load(reader));
        }

        if (stream.Position != stream.Length)
        {
            throw new InvalidDataException($"'{path}' has {stream.Length - stream.Position} bytes after its {count} tensors: it is not a TorchSharp state_dict (module.save).");
        }

        return stateDict;
    }

    /// <summary>
    /// Reads the header of the next tensor (element type, rank, sizes) and checks that its data lies within the file,
    /// then rewinds: a damaged header must fail here, not as a native allocation of an absurd size.
    /// </summary>
    private static void CheckTensorFits(BinaryReader reader, string path, string name)
    {
        var stream = reader.BaseStream;
        long start = stream.Position;
        var type = (ScalarType)reader.Read7BitEncodedInt64();
        long rank = reader.Read7BitEncodedInt64();
        if (rank is < 0 or > 64)
        {
            throw new InvalidDataException($"'{path}' is damaged: tensor '{name}' has rank {rank}.");
        }

        long bytes = ElementSize(type, path, name);
        for (long i = 0; i < rank; i++)
        {
            long size = reader.Read7BitEncodedInt64();
            if (size < 0 || (size > 0 && bytes > (stream.Length - stream.Position) / size))
            {
                throw new InvalidDataException($"'{path}' is damaged: tensor '{name}' is larger than the file.");
            }

            bytes *= size;
        }

        if (bytes > stream.Length - stream.Position)
        {
            throw new InvalidDataException($"'{path}' is damaged: tensor '{name}' needs {bytes} bytes, {stream.Length - stream.Position} remain.");
        }

        stream.Position = start;
    }

    private static long ElementSize(ScalarType type, string path, string name) => type switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => throw new InvalidDataException($"'{path}' is damaged: tensor '{name}' has the unknown element type {(int)type}."),
    };

    private static FileStream OpenForReading(string path) =>
        File.Exists(path)
            ? File.OpenRead(path)
            : throw new FileNotFoundException($"No weights file at '{path}'.", path);
}
