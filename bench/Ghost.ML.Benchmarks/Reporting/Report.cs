using System.Globalization;
using Ghost.ML.Benchmarks.Allocator;
using Ghost.ML.Benchmarks.Layers;
using Ghost.ML.Benchmarks.Training;
using Spectre.Console;

namespace Ghost.ML.Benchmarks.Reporting;

/// <summary>Console tables of the measurements, in the form BENCHMARKS.md quotes them.</summary>
internal static class Report
{
    /// <summary>CPU model and thread counts, which every table depends on.</summary>
    public static void Machine()
    {
        // Tables are quoted in BENCHMARKS.md: keep rows on one line even when the output is redirected.
        AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 220);
        var model = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim()
            : null;
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]Machine:[/] {model ?? "unknown CPU"}, {Environment.ProcessorCount} hardware threads, libtorch intra-op threads {TorchSharp.torch.get_num_threads()}");
    }

    /// <summary>The interleaved layer comparison.</summary>
    public static void Layers(IEnumerable<LayerTimes> results)
    {
        var table = new Table().Title("Layer forward+backward in training (interleaved medians)")
            .AddColumns("shape", "G", "BatchNorm ms", "ghost ms", "chunk loop ms", "ghost/BN (goal ≤ 1.05)", "ghost/chunk (goal < 1)");
        foreach (var r in results)
        {
            table.AddRow(LayerCase.FormatShape(r.Case.Shape), r.Case.GhostBatchSize.ToString(CultureInfo.InvariantCulture),
                Ms(r.BatchNorm), Ms(r.Ghost), Ms(r.ChunkLoop), Ratio(r.GhostOverBatchNorm), Ratio(r.GhostOverChunkLoop));
        }

        AnsiConsole.Write(table);
    }

    /// <summary>The training-step comparison.</summary>
    public static void Step(StepOptions options, StepResult result)
    {
        var table = new Table()
            .Title($"Training step, {options.Architecture}, batch {options.BatchSize}, {options.ImageSize}×{options.ImageSize}, G = {options.GhostBatchSize} ({options.Rounds} interleaved rounds)")
            .AddColumns("", "BatchNorm", "ghost", "ghost/BN");
        table.AddRow("median step ms", Ms(result.PlainStep), Ms(result.GhostStep), $"{Ratio(result.TimeRatio)} (goal ≤ 1.02)");
        table.AddRow("peak RSS growth MiB (shared process: see the memory command)", MiB(result.PlainPeakBytes), MiB(result.GhostPeakBytes), Ratio(result.MemoryRatio));
        AnsiConsole.Write(table);
    }

    /// <summary>The per-process memory comparison.</summary>
    public static void Memory(StepOptions options, IReadOnlyList<MemoryResult> results)
    {
        var table = new Table()
            .Title($"Peak RSS above the pre-training RSS over {options.Rounds + 2} steps, {options.Architecture}, batch {options.BatchSize}, G = {options.GhostBatchSize} (one process per run; medians)")
            .AddColumns("allocator setting", "BatchNorm MiB", "ghost MiB", "ghost/BN (goal ≤ 1.1)");
        foreach (var r in results)
        {
            table.AddRow(r.Setting.Name, MiB(r.PlainBytes), MiB(r.GhostBytes), Ratio(r.Ratio));
        }

        AnsiConsole.Write(table);
    }

    /// <summary>The allocator comparison.</summary>
    public static void Allocators(IReadOnlyList<AllocatorResult> results)
    {
        var baseline = results[0];
        var layerCase = LayerCase.FormatShape(baseline.Layer.Case.Shape);
        var table = new Table().Title("glibc malloc settings (one child process per setting; ratios against the default setting)")
            .AddColumns("setting", "BN step ms", "ghost step ms", "ghost/BN step", "BN step vs default",
                $"BN layer ms {layerCase}", "ghost layer ms", "ghost/BN layer", "BN layer vs default", "process peak RSS MiB");
        foreach (var r in results)
        {
            table.AddRow(r.Setting.Name, Ms(r.Step.PlainStep), Ms(r.Step.GhostStep), Ratio(r.Step.TimeRatio),
                Ratio(r.Step.PlainStep / baseline.Step.PlainStep), Ms(r.Layer.BatchNorm), Ms(r.Layer.Ghost),
                Ratio(r.Layer.GhostOverBatchNorm), Ratio(r.Layer.BatchNorm / baseline.Layer.BatchNorm), MiB(r.ProcessPeakBytes));
        }

        AnsiConsole.Write(table);
        foreach (var r in results)
        {
            AnsiConsole.MarkupLineInterpolated($"  [bold]{r.Setting.Name}[/]: {r.Setting.Description}");
        }
    }

    private static string Ms(TimeSpan time) => time.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture);

    private static string Ratio(double ratio) => ratio.ToString("F3", CultureInfo.InvariantCulture);

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture);
}
