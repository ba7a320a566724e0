using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// Ghost Batch Normalization over 4D input of shape [N, C, H, W]: the ghost counterpart of
/// <see cref="TorchSharp.Modules.BatchNorm2d"/>, with the same parameters, buffers and state_dict keys.
/// </summary>
/// <remarks>See <see cref="GhostBatchNorm"/> for the training semantics and the tail policy.</remarks>
public sealed class GhostBatchNorm2d : GhostBatchNorm
{
    /// <summary>Creates the layer.</summary>
    /// <param name="numFeatures">Channels C of the input.</param>
    /// <param name="ghostBatchSize">Samples per ghost batch in training; at least 1.</param>
    /// <param name="eps">Added to the variance for numerical stability.</param>
    /// <param name="momentum">Running-statistics momentum per training batch (divided among its ghost batches), or null for a cumulative average.</param>
    /// <param name="affine">Whether the layer has a learnable per-channel scale (<c>weight</c>) and shift (<c>bias</c>).</param>
    /// <param name="trackRunningStats">Whether running statistics are kept for evaluation.</param>
    /// <param name="device">Device of the parameters and buffers.</param>
    /// <param name="dtype">Element type of the parameters and buffers.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ghostBatchSize"/> or <paramref name="numFeatures"/> is not positive.</exception>
    public GhostBatchNorm2d(long numFeatures, int ghostBatchSize, double eps = 1e-5, double? momentum = 0.1,
        bool affine = true, bool trackRunningStats = true, Device? device = null, ScalarType? dtype = null)
        : base(numFeatures, ghostBatchSize, eps, momentum, affine, trackRunningStats, device, dtype, nameof(GhostBatchNorm2d))
    {
    }

    /// <inheritdoc/>
    protected override string ExpectedShape => string.Format("[N, {0}, H, W]", num_features);

    /// <inheritdoc/>
    protected override IReadOnlyList<long> AcceptedRanks { get; } = [4];
}
