using System.Runtime.InteropServices;

namespace Ghost.ML.Training;

/// <summary>
/// glibc's malloc serves every block above its mmap threshold (at most 32 MiB) with a fresh mmap and unmaps it on
/// free, so each training step page-faults its activations afresh. Turning mmap off for malloc and raising the trim
/// threshold keeps freed memory in the process for the next step.
/// </summary>
internal static class NativeAllocatorTuning
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_MAX = -4;

    /// <summary>Memory glibc may keep free at the top of the heap before returning it: 1 GiB.</summary>
    private const int TrimThreshold = 1 << 30;

    private static int s_applied;

    /// <summary>Applies the setting once per process; does nothing outside Linux or without glibc.</summary>
    /// <returns>Whether glibc accepted the setting (also true when an earlier call applied it).</returns>
    public static unsafe bool Apply()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        if (Volatile.Read(ref s_applied) == 1)
        {
            return true;
        }

        if (!NativeLibrary.TryLoad("libc.so.6", out var libc) || !NativeLibrary.TryGetExport(libc, "mallopt", out var export))
        {
            return false;
        }

        var mallopt = (delegate* unmanaged<int, int, int>)export;
        bool accepted = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, TrimThreshold) == 1;
        if (accepted)
        {
            Volatile.Write(ref s_applied, 1);
        }

        return accepted;
    }
}
