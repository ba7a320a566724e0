namespace Ghost.ML.Benchmarks.Measurement;

/// <summary>Resident set size of this process from /proc (Linux), with a resettable peak.</summary>
internal static class ResidentMemory
{
    /// <summary>Current resident set size in bytes.</summary>
    public static long Current => Read("VmRSS:");

    /// <summary>Peak resident set size in bytes since the start or the last <see cref="ResetPeak"/>.</summary>
    public static long Peak => Read("VmHWM:");

    /// <summary>Restarts the peak from the current resident set size (writes 5 to /proc/self/clear_refs).</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    /// <summary>The peak resident set size reached while <paramref name="action"/> ran, above the size before it.</summary>
    public static long PeakGrowth(Action action)
    {
        ResetPeak();
        var before = Current;
        action();
        return Peak - before;
    }

    private static long Read(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line[field.Length..].Trim().Split(' ')[0]) * 1024;
    }
}
