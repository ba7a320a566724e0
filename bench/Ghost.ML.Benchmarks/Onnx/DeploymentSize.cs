using System.Runtime.InteropServices;
using System.Text.Json;

namespace Ghost.ML.Benchmarks.Onnx;

/// <summary>Bytes an application ships for one runtime on this platform: the managed and native files of its packages.</summary>
/// <param name="Runtime">What is measured, e.g. "TorchSharp + libtorch (CPU)".</param>
/// <param name="Packages">The packages counted.</param>
/// <param name="Files">Files counted.</param>
/// <param name="Bytes">Their total size.</param>
internal sealed record DeploymentSize(string Runtime, IReadOnlyList<string> Packages, int Files, long Bytes)
{
    /// <summary>The packages of a TorchSharp deployment on the CPU (what Ghost.ML's scoring needs).</summary>
    public static readonly string[] TorchSharpPackages = ["TorchSharp", "libtorch-cpu-linux-x64", "libtorch-cpu-win-x64", "libtorch-cpu-osx-arm64"];

    /// <summary>The packages of an ONNX deployment through ML.NET (ONNX Runtime and OnnxTransformer).</summary>
    public static readonly string[] OnnxPackages = ["Microsoft.ML.OnnxRuntime", "Microsoft.ML.OnnxRuntime.Managed", "Microsoft.ML.OnnxTransformer"];

    /// <summary>
    /// Sums the files that this application's <c>.deps.json</c> lists for <paramref name="packages"/> (managed
    /// assemblies, and native libraries of this machine's runtime identifier), as found in its output folder.
    /// </summary>
    public static DeploymentSize Measure(string runtime, IReadOnlyList<string> packages)
    {
        string folder = AppContext.BaseDirectory;
        string depsFile = Path.Combine(folder, $"{typeof(DeploymentSize).Assembly.GetName().Name}.deps.json");
        using var deps = JsonDocument.Parse(File.ReadAllText(depsFile));
        var target = deps.RootElement.GetProperty("targets").EnumerateObject().First().Value;
        string rid = RuntimeInformation.RuntimeIdentifier;
        var files = new List<string>();
        foreach (var library in target.EnumerateObject().Where(library => packages.Contains(library.Name.Split('/')[0], StringComparer.OrdinalIgnoreCase)))
        {
            if (library.Value.TryGetProperty("runtime", out var managed))
            {
                files.AddRange(managed.EnumerateObject().Select(file => Path.Combine(folder, Path.GetFileName(file.Name))));
            }

            if (library.Value.TryGetProperty("runtimeTargets", out var natives))
            {
                files.AddRange(natives.EnumerateObject()
                    .Where(file => file.Value.GetProperty("rid").GetString() == rid && file.Value.GetProperty("assetType").GetString() == "native")
                    .Select(file => Path.Combine(folder, file.Name)));
            }
        }

        var existing = files.Where(File.Exists).ToList();
        return new DeploymentSize(runtime, packages, existing.Count, existing.Sum(file => new FileInfo(file).Length));
    }
}
