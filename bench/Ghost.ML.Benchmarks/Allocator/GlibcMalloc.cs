using System.Runtime.InteropServices;

namespace Ghost.ML.Benchmarks.Allocator;

/// <summary>glibc's <c>mallopt</c>, to change how malloc returns large blocks to the operating system.</summary>
internal static partial class GlibcMalloc
{
    /// <summary>Free memory at the top of the heap above this many bytes is returned to the system.</summary>
    public const int TrimThreshold = -1;

    /// <summary>Blocks of at least this many bytes are mapped with mmap (glibc caps it at 32 MiB on 64-bit).</summary>
    public const int MmapThreshold = -3;

    /// <summary>The most blocks served by mmap at once; 0 serves everything from the heap.</summary>
    public const int MmapMax = -4;

    /// <summary>Sets one malloc parameter.</summary>
    /// <exception cref="InvalidOperationException">glibc rejected the value.</exception>
    public static void Set(int parameter, int value)
    {
        if (Mallopt(parameter, value) != 1)
        {
            throw new InvalidOperationException($"mallopt({parameter}, {value}) was rejected.");
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
