using BenchmarkDotNet.Attributes;
using Ghost.ML.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Benchmarks.Layers;

/// <summary>
/// One training forward+backward pass of BatchNorm (the baseline), the ghost layer and the chunk loop, per
/// <see cref="LayerCase"/>. The cases come from <see cref="Cases"/>, which the command line sets before the run.
/// </summary>
public class LayerBenchmarks
{
    private Tensor _input = null!;
    private Tensor _upstream = null!;
    private BatchNorm _batchNorm = null!;
    private GhostBatchNorm _ghost = null!;
    private BatchNorm _chunked = null!;

    /// <summary>The cases to run; the goal cases unless the command line asks for the full sweep.</summary>
    public static IReadOnlyList<LayerCase> SelectedCases { get; set; } = LayerCase.Goals;

    /// <summary>The cases BenchmarkDotNet iterates over.</summary>
    public static IEnumerable<LayerCase> Cases => SelectedCases;

    /// <summary>The shape and ghost batch size of this run.</summary>
    [ParamsSource(nameof(Cases))]
    public LayerCase Case { get; set; } = LayerCase.Goals[0];

    /// <summary>Creates the input, the upstream gradient and the three layers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        manual_seed(1);
        _input = randn(Case.Shape);
        _upstream = randn(Case.Shape);
        _batchNorm = Case.CreateBatchNorm();
        _ghost = Case.CreateGhostBatchNorm();
        _chunked = Case.CreateBatchNorm();
        _batchNorm.train();
        _ghost.train();
        _chunked.train();
    }

    /// <summary>Releases the tensors and layers.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _input.Dispose();
        _upstream.Dispose();
        _batchNorm.Dispose();
        _ghost.Dispose();
        _chunked.Dispose();
    }

    /// <summary>TorchSharp's BatchNorm.</summary>
    [Benchmark(Baseline = true)]
    public void BatchNorm() => LayerComparison.TrainingPass(_batchNorm.forward, _input, _upstream);

    /// <summary>Ghost.ML's ghost layer.</summary>
    [Benchmark]
    public void GhostBatchNorm() => LayerComparison.TrainingPass(_ghost.forward, _input, _upstream);

    /// <summary>One native batch_norm per ghost batch.</summary>
    [Benchmark]
    public void ChunkLoop() =>
        LayerComparison.TrainingPass(x => ChunkLoopBatchNorm.Forward(_chunked, x, Case.GhostBatchSize), _input, _upstream);
}
