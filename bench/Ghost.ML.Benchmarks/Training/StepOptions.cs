using Ghost.ML.Torch.Models;

namespace Ghost.ML.Benchmarks.Training;

/// <summary>What training step to measure and how often.</summary>
/// <param name="Architecture">The ResNet trained.</param>
/// <param name="BatchSize">Images per step.</param>
/// <param name="ImageSize">Height and width of the random images.</param>
/// <param name="GhostBatchSize">Ghost batch size of the ghost variant.</param>
/// <param name="Rounds">Timed interleaved rounds.</param>
internal sealed record StepOptions(ResNetArchitecture Architecture, int BatchSize, int ImageSize, int GhostBatchSize, int Rounds)
{
    /// <summary>The same options as command-line arguments of the <c>step</c> family of commands.</summary>
    public IEnumerable<string> ToArguments() =>
    [
        "--architecture", Architecture.ToString(), "--batch-size", BatchSize.ToString(), "--image-size", ImageSize.ToString(),
        "--ghost-batch-size", GhostBatchSize.ToString(), "--rounds", Rounds.ToString(),
    ];
}
