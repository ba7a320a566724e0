using System.Reflection;
using System.Runtime.CompilerServices;
using Ghost.ML;
using Ghost.ML.Hosting;
using Ghost.ML.Persistence.MLNet;
using Microsoft.ML;
using Microsoft.ML.Runtime;

// ML.NET finds the loader through this attribute: Model.Load reads the loader signature and the assembly name from
// the file, loads Ghost.ML and calls Create below, so a fresh process needs no registration call.
[assembly: LoadableClass(typeof(GhostBatchNormClassificationTransformer), typeof(MLNetModelFormat), null, typeof(SignatureLoadModel),
    MLNetModelFormat.UserName, MLNetModelFormat.LoaderSignature)]

namespace Ghost.ML.Persistence.MLNet;

/// <summary>
/// Stores <see cref="GhostBatchNormClassificationTransformer"/> inside ML.NET's own model files, so that
/// <c>mlContext.Model.Save</c> and <c>mlContext.Model.Load</c> handle any chain that contains it.
/// </summary>
/// <remarks>
/// <para>
/// This folder is the only code compiled against ML.NET internals (the catalog's environment and
/// <c>SchemaShape.Column</c>'s constructor are reached by reflection, where they are used). ML.NET keeps what a savable transformer needs
/// internal to Microsoft.ML.Core: the members of <see cref="ModelSaveContext"/> and <see cref="ModelLoadContext"/>,
/// <see cref="VersionInfo"/>, <see cref="LoadableClassAttribute"/> and <see cref="SignatureLoadModel"/>. Ghost.ML
/// compiles against a copy of Microsoft.ML.Core whose internals are public (generated at build time by
/// build/MLNetInternalsReference from the restored package; never shipped), and
/// <c>IgnoresAccessChecksTo("Microsoft.ML.Core")</c> lets the runtime accept those calls on the real assembly.
/// </para>
/// <para>
/// The model entry holds no fields of its own: one binary stream carries exactly the bytes
/// <c>transformer.Save(stream)</c> writes, so the two formats cannot drift apart and the payload keeps its own
/// version, checks and error messages. The entry's ML.NET version guards the layout around it.
/// </para>
/// <para>
/// Should a later ML.NET rename or remove one of these members, the calls fail at the boundary
/// (<see cref="MissingMemberException"/>, <see cref="TypeLoadException"/>, <see cref="MemberAccessException"/>) and
/// are reported as <see cref="NotSupportedException"/> that points to <c>transformer.Save</c>, which needs no internals.
/// </para>
/// </remarks>
internal static class MLNetModelFormat
{
    /// <summary>Name ML.NET stores to find the loader (at most 24 ASCII characters).</summary>
    internal const string LoaderSignature = "GhostMLClassifier";

    /// <summary>Human-readable name in ML.NET's component catalog.</summary>
    internal const string UserName = "Ghost BatchNorm classifier";

    /// <summary>ML.NET's 8-character signature of the entry's layout.</summary>
    internal const string ModelSignature = "GHOSTBNC";

    /// <summary>The binary stream inside the entry that holds the <c>transformer.Save</c> payload.</summary>
    internal const string PayloadStreamName = "GhostML.Classifier.zip";

    /// <summary>Layout version this code writes and the oldest it reads (ML.NET's major.minor in the high/low words).</summary>
    internal const uint LayoutVersion = 0x00010001;

    private const string MetadataKey = "MLNetInternalsReference";

    /// <summary>The Microsoft.ML.Core version (informational) Ghost.ML was compiled against.</summary>
    internal static string ReferenceVersion { get; } =
        typeof(MLNetModelFormat).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == MetadataKey).Value ?? string.Empty;

    /// <summary>The Microsoft.ML.Core version (informational) loaded in this process.</summary>
    internal static string RuntimeVersion { get; } =
        typeof(ModelSaveContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? string.Empty;

    /// <summary>Writes the entry for a transformer whose payload <paramref name="writePayload"/> writes.</summary>
    /// <exception cref="NotSupportedException">The Microsoft.ML loaded here no longer has the members this uses.</exception>
    public static void Save(ModelSaveContext ctx, Action<Stream> writePayload)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        using var payload = new MemoryStream();
        writePayload(payload);
        AtBoundary("mlContext.Model.Save", () => WriteEntry(ctx, payload));
    }

    /// <summary>
    /// The loader ML.NET calls (through <see cref="LoadableClassAttribute"/>) for each entry it finds. The model goes
    /// where ML.NET's own GPU-capable components go: the CPU, or CUDA when <c>MLContext.GpuDeviceId</c> is set.
    /// </summary>
    /// <exception cref="NotSupportedException">The entry is from a newer Ghost.ML, or the Microsoft.ML loaded here no longer has the members this uses.</exception>
    /// <exception cref="InvalidDataException">The entry is damaged.</exception>
    /// <exception cref="InvalidOperationException">A custom network's factory is not registered, or a GPU was asked for without CUDA and FallbackToCpu.</exception>
    private static GhostBatchNormClassificationTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        var (payload, gpuDeviceId, fallbackToCpu) = AtBoundary("mlContext.Model.Load", () => ReadEntry(env, ctx));
        using (payload)
        {
            return GhostBatchNormClassificationTransformer.LoadFromModelFile(payload, TorchDevice.ForMLContext(gpuDeviceId, fallbackToCpu));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WriteEntry(ModelSaveContext ctx, MemoryStream payload)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.SaveBinaryStream(PayloadStreamName, writer => payload.WriteTo(writer.BaseStream));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (MemoryStream Payload, int? GpuDeviceId, bool FallbackToCpu) ReadEntry(IHostEnvironment env, ModelLoadContext ctx)
    {
        var version = GetVersionInfo();
        var header = ctx.Header;
        if (header.ModelSignature == version.ModelSignature && header.ModelVerReadable > version.VerWrittenCur)
        {
            throw new NotSupportedException(
                $"The model file's {nameof(GhostBatchNormClassificationTransformer)} was saved by a newer Ghost.ML (entry layout 0x{header.ModelVerWritten:X8}, readable from 0x{header.ModelVerReadable:X8}); this Ghost.ML reads up to 0x{version.VerWrittenCur:X8}. Upgrade Ghost.ML to load it.");
        }

        ctx.CheckAtModel(version);
        var payload = new MemoryStream();
        if (!ctx.TryLoadBinaryStream(PayloadStreamName, reader => reader.BaseStream.CopyTo(payload)))
        {
            payload.Dispose();
            throw new InvalidDataException($"The model file's {nameof(GhostBatchNormClassificationTransformer)} entry is damaged: it has no {PayloadStreamName} stream.");
        }

        payload.Position = 0;
        var settings = env as IHostEnvironmentInternal;
        return (payload, settings?.GpuDeviceId, settings?.FallbackToCpu ?? false);
    }

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: LayoutVersion,
        verReadableCur: LayoutVersion,
        verWeCanReadBack: LayoutVersion,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(MLNetModelFormat).Assembly.FullName);

    /// <summary>Runs <paramref name="action"/>, reporting missing ML.NET internals as an incompatible ML.NET version.</summary>
    internal static T AtBoundary<T>(string operation, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is MemberAccessException or TypeLoadException)
        {
            throw new NotSupportedException(
                $"{operation} cannot handle {nameof(GhostBatchNormClassificationTransformer)} with the Microsoft.ML.Core loaded here ({RuntimeVersion}): "
                + $"Ghost.ML was built against {ReferenceVersion}, and ML.NET's model-file internals it relies on have changed ({e.GetType().Name}: {e.Message}). "
                + $"Save the transformer with transformer.Save(path) and load it with {nameof(GhostBatchNormClassificationTransformer)}.Load(mlContext, path), "
                + "or use the Microsoft.ML version Ghost.ML was built against.", e);
        }
    }

    private static void AtBoundary(string operation, Action action) => AtBoundary(operation, () =>
    {
        action();
        return true;
    });
}
