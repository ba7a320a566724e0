using Ghost.ML.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Benchmarks.Layers;

/// <summary>One input shape and ghost batch size at which the layers are compared.</summary>
/// <param name="Shape">Input shape [N, C, spatial…]; its rank picks BatchNorm1d, 2d or 3d.</param>
/// <param name="GhostBatchSize">Samples per ghost batch.</param>
public sealed record LayerCase(long[] Shape, int GhostBatchSize)
{
    /// <summary>The two cases goal 1 of issue 5 names.</summary>
    public static IReadOnlyList<LayerCase> Goals { get; } =
    [
        new([256, 64, 32, 32], 32),
        new([512, 128, 8, 8], 16),
    ];

    /// <summary>The input shapes swept over every ghost batch size of issue 5: the goal shapes, one 1d and one 3d.</summary>
    public static IReadOnlyList<long[]> SweptShapes { get; } =
    [
        [256, 64, 32, 32],
        [512, 128, 8, 8],
        [4096, 512],
        [128, 32, 4, 16, 16],
    ];

    /// <summary>The ghost batch sizes of issue 5.</summary>
    public static IReadOnlyList<int> GhostBatchSizes { get; } = [8, 16, 32, 64];

    /// <summary>Every swept shape with every ghost batch size.</summary>
    public static IEnumerable<LayerCase> Sweep() =>
        SweptShapes.SelectMany(shape => GhostBatchSizes.Select(size => new LayerCase(shape, size)));

    /// <summary>The shape written as <c>256x64x32x32</c>.</summary>
    public static string FormatShape(long[] shape) => string.Join('x', shape);

    /// <inheritdoc/>
    public override string ToString() => $"{FormatShape(Shape)}/G{GhostBatchSize}";

    /// <summary>Channels C of the input.</summary>
    public long Channels => Shape[1];

    /// <summary>A plain BatchNorm of the rank the shape needs.</summary>
    public BatchNorm CreateBatchNorm() => Shape.Length switch
    {
        2 or 3 => nn.BatchNorm1d(Channels),
        4 => nn.BatchNorm2d(Channels),
        5 => nn.BatchNorm3d(Channels),
        _ => throw new ArgumentException($"No BatchNorm takes rank-{Shape.Length} input."),
    };

    /// <summary>A ghost layer of the rank the shape needs.</summary>
    public GhostBatchNorm CreateGhostBatchNorm() => Shape.Length switch
    {
        2 or 3 => new GhostBatchNorm1d(Channels, GhostBatchSize),
        4 => new GhostBatchNorm2d(Channels, GhostBatchSize),
        5 => new GhostBatchNorm3d(Channels, GhostBatchSize),
        _ => throw new ArgumentException($"No ghost layer takes rank-{Shape.Length} input."),
    };
}
