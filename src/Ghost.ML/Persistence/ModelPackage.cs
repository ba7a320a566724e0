using System.IO.Compression;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Ghost.ML.Persistence;

/// <summary>
/// Reads and writes the saved-model zip: <c>manifest.json</c> plus <c>weights.bin</c> (TorchSharp's state_dict format).
/// Files are written to a temporary file beside the target and moved into place, so a failed or cancelled save
/// leaves no half-written model behind.
/// </summary>
internal static class ModelPackage
{
    /// <summary>The zip entry that holds the manifest.</summary>
    internal const string ManifestEntry = "manifest.json";
    private const string WeightsEntry = "weights.bin";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>Writes the package to <paramref name="path"/>, replacing any file there only once it is complete.</summary>
    public static void Save(string path, ModelManifest manifest, nn.Module model)
    {
        string fullPath = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                Save(file, manifest, model);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Writes the package to <paramref name="stream"/>, which stays open.</summary>
    public static void Save(Stream stream, ModelManifest manifest, nn.Module model)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        using (var entry = zip.CreateEntry(ManifestEntry, CompressionLevel.Optimal).Open())
        {
            JsonSerializer.Serialize(entry, manifest, s_json);
        }

        using var weights = zip.CreateEntry(WeightsEntry, CompressionLevel.Fastest).Open();
        using var writer = new BinaryWriter(weights, Encoding.UTF8, leaveOpen: true);
        model.save(writer);
    }

    /// <summary>Reads a package: the manifest, then the weights into the network <paramref name="createModel"/> builds for it.</summary>
    /// <exception cref="InvalidDataException">The stream is not a saved Ghost.ML model, or its weights do not fit the network.</exception>
    /// <exception cref="NotSupportedException">The model was saved in a newer format.</exception>
    public static T Load<T>(Stream stream, Func<ModelManifest, (nn.Module Module, T Result)> createModel)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw NotAModel("it is not a zip file", e);
        }

        using (zip)
        {
            var manifest = ReadManifest(zip);
            var (module, result) = createModel(manifest);
            var weights = zip.GetEntry(WeightsEntry) ?? throw NotAModel($"it has no {WeightsEntry}");
            try
            {
                using var entry = weights.Open();
                using var reader = new BinaryReader(entry, Encoding.UTF8, leaveOpen: true);
                module.load(reader, strict: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or EndOfStreamException or IOException)
            {
                module.Dispose();
                throw new InvalidDataException($"The saved weights do not fit the {manifest.Architecture} network the manifest describes: {e.Message}", e);
            }

            return result;
        }
    }

    private static ModelManifest ReadManifest(ZipArchive zip)
    {
        var entry = zip.GetEntry(ManifestEntry) ?? throw NotAModel($"it has no {ManifestEntry}");
        ModelManifest? manifest;
        try
        {
            using var json = entry.Open();
            manifest = JsonSerializer.Deserialize<ModelManifest>(json, s_json);
        }
        catch (JsonException e)
        {
            throw NotAModel($"its {ManifestEntry} is not valid", e);
        }

        if (manifest is null || manifest.FormatVersion < 1)
        {
            throw NotAModel($"its {ManifestEntry} is incomplete");
        }

        if (manifest.FormatVersion > ModelManifest.CurrentFormatVersion)
        {
            throw new NotSupportedException(
                $"The model was saved by Ghost.ML {manifest.LibraryVersion} in format version {manifest.FormatVersion}; this Ghost.ML reads format versions up to {ModelManifest.CurrentFormatVersion}. Upgrade Ghost.ML to load it.");
        }

        manifest.Validate();
        return manifest;
    }

    private static InvalidDataException NotAModel(string reason, Exception? inner = null) =>
        new($"This is not a saved Ghost.ML model: {reason}.", inner);
}
