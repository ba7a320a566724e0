using System.Diagnostics;
using System.Globalization;
using Ghost.ML.Benchmarks.Accuracy;
using Ghost.ML.Benchmarks.Estimators;
using Ghost.ML.Benchmarks.Measurement;

namespace Ghost.ML.Benchmarks.Peer;

/// <summary>Where the PyTorch reference is and what it runs on.</summary>
/// <param name="Python">The interpreter with PyTorch (Debian's python3-torch installs it for <c>/usr/bin/python3</c>).</param>
/// <param name="Script">The reference script, <c>bench/reference/composer_reference.py</c>.</param>
internal sealed record PeerOptions(string Python, string Script);

/// <summary>Training images/s at one batch size, this project's and PyTorch's, each a median of shuffled epochs.</summary>
/// <param name="BatchSize">Images per step.</param>
/// <param name="GhostBatchSize">Ghost batch size of the ghost contenders.</param>
/// <param name="Estimator">The image classifier's epoch (training steps only, as its metrics report), with ghost layers.</param>
/// <param name="BareGhost">A bare TorchSharp loop with ghost layers.</param>
/// <param name="BareBatchNorm">The same bare loop with plain BatchNorm.</param>
/// <param name="PyTorchBatchNorm">PyTorch with plain BatchNorm.</param>
/// <param name="PyTorchChunkLoop">PyTorch with Composer's chunk loop.</param>
internal sealed record PeerSpeed(int BatchSize, int GhostBatchSize, double Estimator, double BareGhost, double BareBatchNorm,
    double PyTorchBatchNorm, double PyTorchChunkLoop);

/// <summary>
/// The speed comparison with the reference implementation: the ML.NET estimator and a bare TorchSharp loop against
/// PyTorch with plain BatchNorm and with Composer's chunk loop, on the same ResNet-20, images and batch sizes, in one run.
/// </summary>
internal static class PeerSpeedComparison
{
    private const int WarmupRounds = 1;

    /// <summary>
    /// Measures ours at <paramref name="options"/>' batch size (estimator and bare ghost loop interleaved, then the bare
    /// BatchNorm loop), then runs the reference script's <c>speed</c> on the same images.
    /// </summary>
    /// <exception cref="InvalidOperationException">The reference script failed, for example because PyTorch is missing.</exception>
    public static PeerSpeed Compare(EstimatorOptions options, PeerOptions peer)
    {
        var ours = EstimatorThroughput.Compare(options);
        var images = options.LoadImages();
        double bareBatchNorm;
        using (var batchNorm = new BareTrainingLoop(images, options.BatchSize, ghostBatchSize: 0))
        {
            bareBatchNorm = batchNorm.Count / InterleavedTimer.Medians([batchNorm.RunEpoch], options.Rounds, WarmupRounds)[0].TotalSeconds;
        }

        var reference = RunReference(options, peer);
        return new PeerSpeed(options.BatchSize, options.GhostBatchSize, ours.EstimatorImagesPerSecond, ours.BareImagesPerSecond,
            bareBatchNorm, reference[0], reference[options.GhostBatchSize]);
    }

    /// <summary>Images/s by ghost batch size (0 = plain BatchNorm) from the reference script's CSV rows.</summary>
    private static Dictionary<int, double> RunReference(EstimatorOptions options, PeerOptions peer)
    {
        var start = new ProcessStartInfo(peer.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
                 {
                     peer.Script, "speed", "--data", options.DataDirectory, "--images", Invariant(options.Images),
                     "--batch-sizes", Invariant(options.BatchSize), "--ghost-batch-sizes", "0", Invariant(options.GhostBatchSize),
                     "--rounds", Invariant(options.Rounds),
                 })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {peer.Python}.");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{peer.Python} {peer.Script} speed failed ({process.ExitCode}); the reference needs PyTorch " +
                $"(apt-get install python3-torch) and Fashion-MNIST in {options.DataDirectory}:{Environment.NewLine}{error.Result}");
        }

        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(','))
            .ToDictionary(fields => AccuracyCsv.ParseLabel(fields[2]),
                fields => double.Parse(fields[3], CultureInfo.InvariantCulture));
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
