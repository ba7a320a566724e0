using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Models;

/// <summary>
/// The bottleneck residual block of ResNet-50 and deeper (He et al. 2016): a 1×1 convolution to the bottleneck width,
/// a 3×3 convolution at that width, a 1×1 convolution to four times the width, each with BatchNorm, added to a
/// shortcut and passed through ReLU. The shortcut is the identity, or a projection (1×1 convolution and BatchNorm)
/// where the block changes the channel count or the resolution.
/// </summary>
/// <remarks>
/// As in TorchVision (ResNet v1.5), the stride sits on the 3×3 convolution. State_dict keys follow TorchVision's
/// Bottleneck (<c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c>, <c>conv3</c>, <c>bn3</c>, <c>downsample.0</c>,
/// <c>downsample.1</c>). The BatchNorm layers are held as <c>Module&lt;Tensor, Tensor&gt;</c> so that
/// <see cref="GhostBatchNormSurgery.ApplyGhostBatchNorm"/> can replace them.
/// </remarks>
public sealed class Bottleneck : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    /// <summary>The ratio of the block's output channels to its bottleneck width.</summary>
    public const int Expansion = 4;

    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly nn.Module<Tensor, Tensor> bn1;
    private readonly nn.Module<Tensor, Tensor> conv2;
    private readonly nn.Module<Tensor, Tensor> bn2;
    private readonly nn.Module<Tensor, Tensor> conv3;
    private readonly nn.Module<Tensor, Tensor> bn3;
    private readonly nn.Module<Tensor, Tensor>? downsample;

    /// <summary>Creates the block.</summary>
    /// <param name="inputChannels">Channels of the block's input.</param>
    /// <param name="bottleneckChannels">
    /// Width of the inner convolutions; the block outputs <see cref="Expansion"/> times as many channels.
    /// </param>
    /// <param name="stride">Stride of the 3×3 convolution and of the projection: 1, or 2 to halve the resolution.</param>
    /// <param name="zeroInitResidual">
    /// Whether the scale of the residual branch's last BatchNorm starts at zero, so the block starts as its shortcut
    /// (Goyal et al. 2017). It is set on the tensor itself, so it survives a later swap for a ghost layer.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A channel count or the stride is not positive.</exception>
    public Bottleneck(int inputChannels, int bottleneckChannels, int stride = 1, bool zeroInitResidual = false)
        : base(nameof(Bottleneck))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bottleneckChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);

        var outputChannels = bottleneckChannels * Expansion;
        conv1 = nn.Conv2d(inputChannels, bottleneckChannels, kernel_size: 1, bias: false);
        bn1 = nn.BatchNorm2d(bottleneckChannels);
        conv2 = nn.Conv2d(bottleneckChannels, bottleneckChannels, kernel_size: 3, stride: stride, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(bottleneckChannels);
        conv3 = nn.Conv2d(bottleneckChannels, outputChannels, kernel_size: 1, bias: false);
        var lastNorm = nn.BatchNorm2d(outputChannels);
        if (zeroInitResidual)
        {
            nn.init.zeros_(lastNorm.weight);
        }

        bn3 = lastNorm;
        downsample = ResidualShortcut.Create(inputChannels, outputChannels, stride);
        RegisterComponents();
    }

    /// <summary>Applies the block.</summary>
    /// <param name="input">Activations of shape [N, inputChannels, H, W].</param>
    /// <returns>Activations of shape [N, 4 × bottleneckChannels, ⌈H / stride⌉, ⌈W / stride⌉].</returns>
    public override Tensor forward(Tensor input)
    {
        var residual = nn.functional.relu(bn1.call(conv1.call(input)));
        residual = nn.functional.relu(bn2.call(conv2.call(residual)));
        residual = bn3.call(conv3.call(residual));
        var shortcut = downsample is null ? input : downsample.call(input);
        // As in BasicBlock: only the fresh sum is overwritten, never a normalization output.
        return (residual + shortcut).relu_();
    }

    /// <inheritdoc/>
    string IOnnxExportable.AddToOnnxGraph(OnnxGraphBuilder graph, string input) => graph.Residual(input, x =>
    {
        var residual = graph.Relu(graph.Chain(x, [("conv1", conv1), ("bn1", bn1)]));
        residual = graph.Relu(graph.Chain(residual, [("conv2", conv2), ("bn2", bn2)]));
        return graph.Chain(residual, [("conv3", conv3), ("bn3", bn3)]);
    }, downsample);
}
