using System.Globalization;
using Ghost.ML.Benchmarks.Allocator;
using Ghost.ML.Benchmarks.Cache;
using Ghost.ML.Benchmarks.Data;
using Ghost.ML.Benchmarks.Estimators;
using Ghost.ML.Benchmarks.Layers;
using Ghost.ML.Benchmarks.Onnx;
using Ghost.ML.Benchmarks.Peer;
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

    /// <summary>The glibc malloc setting a measurement runs under.</summary>
    public static void Allocator(AllocatorSetting setting) =>
        AnsiConsole.MarkupLineInterpolated($"[bold]Allocator:[/] {setting.Name} ({setting.Description})");

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

    /// <summary>Which images a measurement uses.</summary>
    public static void Images(GreyImages images) =>
        AnsiConsole.MarkupLineInterpolated($"[bold]Images:[/] {images.Count} of {images.Width}×{images.Height}, {images.Source}");

    /// <summary>The estimator's epoch against the bare loop, and the allocator setting's effect on it.</summary>
    public static void Estimator(EstimatorOptions options, EstimatorResult result, AllocatorThroughput allocator)
    {
        var table = new Table()
            .Title($"One epoch of ResNet-20, {options.Images} PNG images 28×28, batch {options.BatchSize}, G = {options.GhostBatchSize}, no augmentation ({options.Rounds} interleaved rounds)")
            .AddColumns("", "images/s", "ratio");
        table.AddRow("bare TorchSharp loop (decoded tensors)", Rate(result.BareImagesPerSecond), "");
        table.AddRow("GhostBatchNormImageClassifier epoch", Rate(result.EstimatorImagesPerSecond), $"{Ratio(result.EpochTimeRatio)} epoch time vs bare (goal ≤ 1.1)");
        table.AddRow("Fit outside the epoch (decode once, set-up), s", result.FitOverhead.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture), "");
        table.AddRow("estimator, TuneNativeAllocator = true (own processes)", Rate(allocator.TunedImagesPerSecond), $"{Ratio(allocator.Speedup)} vs false");
        table.AddRow("estimator, TuneNativeAllocator = false (own processes)", Rate(allocator.DefaultImagesPerSecond), "");
        AnsiConsole.Write(table);
    }

    /// <summary>Training images/s of ours against PyTorch's, one row per batch size.</summary>
    public static void PeerSpeed(EstimatorOptions options, IEnumerable<PeerSpeed> results)
    {
        var table = new Table()
            .Title($"Training images/s, ResNet-20, one shuffled epoch over {options.Images} Fashion-MNIST images 28×28, G = {options.GhostBatchSize} (median of {options.Rounds} epochs)")
            .AddColumns("batch", "Ghost.ML estimator (ghost)", "bare TorchSharp (ghost)", "bare TorchSharp (BatchNorm)",
                "PyTorch (BatchNorm)", "PyTorch (Composer chunk loop)", "estimator / Composer", "bare ghost / Composer", "bare BN / PyTorch BN");
        foreach (var r in results)
        {
            table.AddRow(r.BatchSize.ToString(CultureInfo.InvariantCulture), Rate(r.Estimator), Rate(r.BareGhost), Rate(r.BareBatchNorm),
                Rate(r.PyTorchBatchNorm), Rate(r.PyTorchChunkLoop), Ratio(r.Estimator / r.PyTorchChunkLoop),
                Ratio(r.BareGhost / r.PyTorchChunkLoop), Ratio(r.BareBatchNorm / r.PyTorchBatchNorm));
        }

        AnsiConsole.Write(table);
    }

    /// <summary>Batched scoring against row-by-row scoring and the bare forward pass.</summary>
    public static void Scoring(EstimatorOptions options, int rowByRowImages, ScoringResult result)
    {
        var table = new Table()
            .Title($"Scoring ResNet-20, {options.Images} PNG images 28×28 ({rowByRowImages} row by row), G = {options.GhostBatchSize} ({options.Rounds} interleaved rounds)")
            .AddColumns("", "images/s", "batched over this");
        table.AddRow("Transform, ScoringBatchSize 256", Rate(result.BatchedImagesPerSecond), "");
        table.AddRow("Transform, ScoringBatchSize 1", Rate(result.RowByRowImagesPerSecond), $"{Ratio(result.BatchedOverRowByRow)} (goal ≥ 5)");
        table.AddRow("bare forward, decoded batches of 256, inference mode", Rate(result.BareImagesPerSecond), $"{Ratio(result.BatchedOverBare)} (goal ≥ 0.9)");
        table.AddRow("bare forward, one decoded image per pass, inference mode", Rate(result.BareSingleImagesPerSecond), Ratio(result.BatchedImagesPerSecond / result.BareSingleImagesPerSecond));
        AnsiConsole.Write(table);
    }

    /// <summary>ONNX Runtime against the TorchSharp transformer on the same images, and what each runtime ships.</summary>
    public static void Onnx(EstimatorOptions options, OnnxScoringResult result, IReadOnlyList<DeploymentSize> sizes)
    {
        var table = new Table()
            .Title($"Scoring ResNet-20, {options.Images} PNG images 28×28, batches of 256, G = {options.GhostBatchSize} ({options.Rounds} interleaved rounds)")
            .AddColumns("", "images/s", "ONNX Runtime over TorchSharp");
        table.AddRow("TorchSharp: Transform, ScoringBatchSize 256 (PNG decode included)", Rate(result.TransformImagesPerSecond), "");
        table.AddRow("ONNX Runtime: the same PNGs decoded in parallel, then batches of 256", Rate(result.OnnxDecodedImagesPerSecond), Ratio(result.OnnxDecodedImagesPerSecond / result.TransformImagesPerSecond));
        table.AddRow("TorchSharp: bare network on decoded batches, inference mode", Rate(result.BareTorchImagesPerSecond), "");
        table.AddRow("ONNX Runtime: bare session on decoded pixel batches", Rate(result.BareOnnxImagesPerSecond), Ratio(result.BareOnnxImagesPerSecond / result.BareTorchImagesPerSecond));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]Agreement:[/] largest probability difference {result.LargestScoreDifference:G3}, same predicted classes: {result.SamePredictions}");

        var sizeTable = new Table().Title($"Deployment size on {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier} (files of the packages, from this build's output)")
            .AddColumns("runtime", "packages", "files", "MiB");
        foreach (var size in sizes)
        {
            sizeTable.AddRow(size.Runtime, string.Join(", ", size.Packages), size.Files.ToString(CultureInfo.InvariantCulture), (size.Bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(sizeTable);
        AnsiConsole.MarkupLineInterpolated($"[bold]Size ratio:[/] TorchSharp is {(double)sizes[0].Bytes / sizes[1].Bytes:F1}× ONNX Runtime");
    }

    /// <summary>The training data path, cached against streamed.</summary>
    public static void Cache(int imageSize, int batchSize, IReadOnlyList<CacheResult> results)
    {
        var table = new Table()
            .Title($"Training data path: PNG images {imageSize}×{imageSize} RGB, first pass then one shuffled epoch of batches of {batchSize}, no network (one process per row)")
            .AddColumns("images", "decoded MiB", "case", "budget MiB", "path", "first pass s", "epoch images/s", "peak growth MiB");
        foreach (var r in results)
        {
            table.AddRow(r.Images.ToString(CultureInfo.InvariantCulture), MiB((long)r.Images * imageSize * imageSize * 3), r.Case.Name,
                MiB(r.BudgetBytes), r.Streamed ? "streamed" : "cached", r.FirstPassSeconds.ToString("F2", CultureInfo.InvariantCulture),
                Rate(r.EpochImagesPerSecond), MiB(r.PeakGrowthBytes));
        }

        AnsiConsole.Write(table);
    }

    private static string Ms(TimeSpan time) => time.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture);

    private static string Ratio(double ratio) => ratio.ToString("F3", CultureInfo.InvariantCulture);

    private static string Rate(double imagesPerSecond) => imagesPerSecond.ToString("F1", CultureInfo.InvariantCulture);

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture);
}
