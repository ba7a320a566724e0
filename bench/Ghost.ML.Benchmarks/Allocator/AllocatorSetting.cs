namespace Ghost.ML.Benchmarks.Allocator;

/// <summary>A way of configuring glibc malloc for a training process.</summary>
/// <param name="Name">Short name used on the command line and in tables.</param>
/// <param name="Description">What is set, and how.</param>
/// <param name="Environment">Environment variables the process starts with.</param>
/// <param name="MalloptCalls">mallopt calls made when the process starts, as (parameter, value).</param>
internal sealed record AllocatorSetting(string Name, string Description, IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<(int Parameter, int Value)> MalloptCalls)
{
    private const int ThirtyTwoMiB = 32 * 1024 * 1024;
    private const int OneGiB = 1024 * 1024 * 1024;

    /// <summary>The settings compared.</summary>
    public static IReadOnlyList<AllocatorSetting> All { get; } =
    [
        new("default", "glibc defaults (dynamic mmap threshold, at most 32 MiB)", new Dictionary<string, string>(), []),
        new("env-threshold", "MALLOC_MMAP_THRESHOLD_=32 MiB, MALLOC_TRIM_THRESHOLD_=1 GiB (environment)",
            new Dictionary<string, string>
            {
                ["MALLOC_MMAP_THRESHOLD_"] = ThirtyTwoMiB.ToString(),
                ["MALLOC_TRIM_THRESHOLD_"] = OneGiB.ToString(),
            },
            []),
        new("mallopt-threshold", "mallopt M_MMAP_THRESHOLD=32 MiB, M_TRIM_THRESHOLD=1 GiB",
            new Dictionary<string, string>(),
            [(GlibcMalloc.MmapThreshold, ThirtyTwoMiB), (GlibcMalloc.TrimThreshold, OneGiB)]),
        new("mallopt-no-mmap", "mallopt M_MMAP_MAX=0, M_TRIM_THRESHOLD=1 GiB (every block from the heap, kept)",
            new Dictionary<string, string>(),
            [(GlibcMalloc.MmapMax, 0), (GlibcMalloc.TrimThreshold, OneGiB)]),
    ];

    /// <summary>The setting called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No setting has that name.</exception>
    public static AllocatorSetting Named(string name) => All.FirstOrDefault(setting => setting.Name == name)
        ?? throw new ArgumentException($"Unknown allocator setting '{name}'; known: {string.Join(", ", All.Select(s => s.Name))}.", nameof(name));

    /// <summary>Configures the current process as this setting does.</summary>
    /// <exception cref="ArgumentException">The setting needs environment variables, which only a new process can take.</exception>
    public void ApplyInProcess()
    {
        if (Environment.Count > 0)
        {
            throw new ArgumentException($"Allocator setting '{Name}' is made through the environment; use a mallopt setting in process.");
        }

        ApplyMallopt();
    }

    /// <summary>Makes the mallopt calls of this setting in the current process.</summary>
    public void ApplyMallopt()
    {
        foreach (var (parameter, value) in MalloptCalls)
        {
            GlibcMalloc.Set(parameter, value);
        }
    }
}
