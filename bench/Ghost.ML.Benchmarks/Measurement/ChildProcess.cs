using System.Diagnostics;
using System.Globalization;

namespace Ghost.ML.Benchmarks.Measurement;

/// <summary>
/// Runs a command of this program in a fresh process, for measurements that need their own process (allocator
/// settings read at start-up, peak memory of one variant alone). The child prints its figures as one line of numbers.
/// </summary>
internal static class ChildProcess
{
    /// <summary>Runs this program with <paramref name="arguments"/> and returns the numbers on its last output line.</summary>
    /// <exception cref="InvalidOperationException">The child could not start or failed.</exception>
    public static double[] Run(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException("Could not start the benchmark child process.");
        var output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"The child process '{string.Join(' ', start.ArgumentList)}' failed with exit code {child.ExitCode}.");
        }

        return output.Trim().Split('\n')[^1].Split(' ').Select(value => double.Parse(value, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>The child side: prints <paramref name="values"/> as the line <see cref="Run"/> reads.</summary>
    public static void Reply(params double[] values) =>
        Console.WriteLine(string.Join(' ', values.Select(value => value.ToString(CultureInfo.InvariantCulture))));
}
