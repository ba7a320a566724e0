using System.Globalization;
using System.Runtime.InteropServices;

namespace Ghost.ML.Hosting;

/// <summary>
/// glibc's malloc serves every block above its mmap threshold (at most 32 MiB) with a fresh mmap and unmaps it on
/// free, so each training step page-faults its activations afresh. Turning mmap off for malloc and raising the trim
/// threshold keeps freed memory in the process for the next step. The setting is process-wide, so it is held only
/// while some Fit runs: the first of concurrent Fits applies it, the last one restores glibc's settings.
/// </summary>
/// <remarks>
/// glibc cannot report its current settings, so "previous" means what the process started with: glibc's defaults,
/// or the values given by <c>GLIBC_TUNABLES</c> (<c>glibc.malloc.mmap_max</c>, <c>glibc.malloc.trim_threshold</c>)
/// or <c>MALLOC_MMAP_MAX_</c> / <c>MALLOC_TRIM_THRESHOLD_</c>. A host that called mallopt itself gets those values
/// back, not its own. Any mallopt call also ends glibc's dynamic mmap threshold for the process (glibc's rule),
/// so afterwards the threshold stays where it was; the freed heap is handed back to the system on restore.
/// </remarks>
internal static class NativeAllocatorTuning
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_MAX = -4;

    /// <summary>glibc's DEFAULT_MMAP_MAX.</summary>
    private const int DefaultMmapMax = 65536;

    /// <summary>glibc's DEFAULT_TRIM_THRESHOLD: 128 KiB.</summary>
    private const int DefaultTrimThreshold = 128 * 1024;

    /// <summary>Memory glibc may keep free at the top of the heap before returning it while training: 1 GiB.</summary>
    private const int TrainingTrimThreshold = 1 << 30;

    private static readonly Lock s_lock = new();
    private static int s_holders;

    /// <summary>
    /// Applies the setting until the returned lease is disposed; null outside Linux, without glibc, or when glibc
    /// refused it (then nothing was changed).
    /// </summary>
    public static IDisposable? Acquire()
    {
        if (!OperatingSystem.IsLinux() || Glibc.Instance is not { } glibc)
        {
            return null;
        }

        lock (s_lock)
        {
            if (s_holders == 0 && !(glibc.Mallopt(M_MMAP_MAX, 0) && glibc.Mallopt(M_TRIM_THRESHOLD, TrainingTrimThreshold)))
            {
                Restore(glibc);
                return null;
            }

            s_holders++;
            return new Lease(glibc);
        }
    }

    /// <summary>Number of leases not yet disposed (for tests).</summary>
    internal static int Holders
    {
        get
        {
            lock (s_lock)
            {
                return s_holders;
            }
        }
    }

    private static void Release(Glibc glibc)
    {
        lock (s_lock)
        {
            if (--s_holders == 0)
            {
                Restore(glibc);
            }
        }
    }

    private static void Restore(Glibc glibc)
    {
        glibc.Mallopt(M_MMAP_MAX, StartupValue("mmap_max", "MALLOC_MMAP_MAX_", DefaultMmapMax));
        glibc.Mallopt(M_TRIM_THRESHOLD, StartupValue("trim_threshold", "MALLOC_TRIM_THRESHOLD_", DefaultTrimThreshold));
        glibc.TrimHeap();
    }

    /// <summary>The value glibc took at startup: the tunable, else the legacy variable, else the default.</summary>
    private static int StartupValue(string tunable, string legacyVariable, int fallback)
    {
        string prefix = $"glibc.malloc.{tunable}=";
        string? text = Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Split(':')
            .LastOrDefault(setting => setting.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..]
            ?? Environment.GetEnvironmentVariable(legacyVariable);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : fallback;
    }

    private sealed class Lease(Glibc glibc) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Release(glibc);
            }
        }
    }

    /// <summary>glibc's <c>mallopt</c> and <c>malloc_trim</c>, found once.</summary>
    private sealed unsafe class Glibc
    {
        private readonly delegate* unmanaged<int, int, int> _mallopt;
        private readonly delegate* unmanaged<nuint, int> _mallocTrim;

        private Glibc(nint mallopt, nint mallocTrim)
        {
            _mallopt = (delegate* unmanaged<int, int, int>)mallopt;
            _mallocTrim = (delegate* unmanaged<nuint, int>)mallocTrim;
        }

        /// <summary>The process's glibc, or null without one.</summary>
        public static Glibc? Instance { get; } =
            OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out var libc)
                && NativeLibrary.TryGetExport(libc, "mallopt", out var mallopt) && NativeLibrary.TryGetExport(libc, "malloc_trim", out var trim)
                ? new Glibc(mallopt, trim)
                : null;

        /// <summary>Calls mallopt; true when glibc accepted the value.</summary>
        public bool Mallopt(int parameter, int value) => _mallopt(parameter, value) == 1;

        /// <summary>Returns the free memory at the top of the heap (and whole free pages) to the system.</summary>
        public void TrimHeap() => _mallocTrim(0);
    }
}
