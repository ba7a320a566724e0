using System.IO.Compression;
using Ghost.ML.Persistence.MLNet;

namespace Ghost.ML.Persistence;

/// <summary>
/// Finds a saved Ghost.ML classifier in a file: the package <c>transformer.Save</c> writes, or an ML.NET model file
/// (<c>mlContext.Model.Save</c>) whose chain holds one.
/// </summary>
internal static class SavedClassifierFile
{
    /// <summary>Reads the classifier package in the file at <paramref name="path"/> into memory, or returns null when the file holds none.</summary>
    /// <exception cref="InvalidDataException">The file is an ML.NET model holding more than one Ghost.ML classifier.</exception>
    public static MemoryStream? TryRead(string path)
    {
        using var stream = File.OpenRead(path);
        using var zip = OpenZip(stream);
        if (zip is null)
        {
            return null;
        }

        var package = new MemoryStream();
        if (zip.GetEntry(ModelPackage.ManifestEntry) is not null)
        {
            stream.Position = 0;
            stream.CopyTo(package);
            package.Position = 0;
            return package;
        }

        var payloads = zip.Entries.Where(entry => entry.Name == MLNetModelFormat.PayloadStreamName).ToList();
        if (payloads.Count != 1)
        {
            package.Dispose();
            return payloads.Count == 0
                ? null
                : throw new InvalidDataException($"'{path}' is an ML.NET model holding {payloads.Count} Ghost.ML classifiers; start from one saved with transformer.Save.");
        }

        using (var payload = payloads[0].Open())
        {
            payload.CopyTo(package);
        }

        package.Position = 0;
        return package;
    }

    /// <summary>The file as a zip archive, or null when it is not one (or a damaged one: the state_dict reader tried next names the damage).</summary>
    private static ZipArchive? OpenZip(FileStream stream)
    {
        Span<byte> head = stackalloc byte[4];
        if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length || !head.SequenceEqual("PK\u0003\u0004"u8))
        {
            return null;
        }

        stream.Position = 0;
        try
        {
            return new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}
