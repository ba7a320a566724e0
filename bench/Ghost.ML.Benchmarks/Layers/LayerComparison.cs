using Ghost.ML.Benchmarks.Measurement;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Benchmarks.Layers;

/// <summary>Median training forward+backward times of BatchNorm, the ghost layer and the chunk loop at one case.</summary>
/// <param name="Case">Shape and ghost batch size.</param>
/// <param name="BatchNorm">Plain BatchNorm.</param>
/// <param name="Ghost">The library's ghost layer.</param>
/// <param name="ChunkLoop">One native batch_norm per ghost batch.</param>
internal sealed record LayerTimes(LayerCase Case, TimeSpan BatchNorm, TimeSpan Ghost, TimeSpan ChunkLoop)
{
    /// <summary>Ghost layer time over BatchNorm time (goal: at most 1.05).</summary>
    public double GhostOverBatchNorm => Ghost / BatchNorm;

    /// <summary>Ghost layer time over chunk loop time (goal: below 1).</summary>
    public double GhostOverChunkLoop => Ghost / ChunkLoop;

    /// <summary>Chunk loop time over BatchNorm time.</summary>
    public double ChunkLoopOverBatchNorm => ChunkLoop / BatchNorm;
}

/// <summary>
/// Times one training forward+backward pass of each layer kind, interleaved in one process (the independent check of
/// goal 1 next to the BenchmarkDotNet runs, which time each kind separately).
/// </summary>
internal static class LayerComparison
{
    /// <summary>
    /// Measures <paramref name="layerCase"/> over <paramref name="rounds"/> interleaved rounds, or more for a case so
    /// quick that fewer rounds would not fill <paramref name="minimumTime"/>.
    /// </summary>
    public static LayerTimes Measure(LayerCase layerCase, int rounds, TimeSpan minimumTime = default)
    {
        using var input = randn(layerCase.Shape);
        using var upstream = randn(layerCase.Shape);
        using var plain = layerCase.CreateBatchNorm();
        using var ghost = layerCase.CreateGhostBatchNorm();
        using var chunked = layerCase.CreateBatchNorm();
        plain.train();
        ghost.train();
        chunked.train();
        var medians = InterleavedTimer.Medians(
            [
                () => TrainingPass(plain.forward, input, upstream),
                () => TrainingPass(ghost.forward, input, upstream),
                () => TrainingPass(x => ChunkLoopBatchNorm.Forward(chunked, x, layerCase.GhostBatchSize), input, upstream),
            ],
            rounds,
            minimumTime: minimumTime);
        return new LayerTimes(layerCase, medians[0], medians[1], medians[2]);
    }

    /// <summary>One training forward pass and the backward pass of <paramref name="upstream"/> through it.</summary>
    public static void TrainingPass(Func<Tensor, Tensor> layer, Tensor input, Tensor upstream)
    {
        using var scope = NewDisposeScope();
        var x = input.detach().requires_grad_();
        layer(x).backward([upstream]);
    }
}
