using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Models;

/// <summary>
/// The residual block of the CIFAR ResNets (He et al. 2016): two 3×3 convolutions with BatchNorm, added to a
/// shortcut and passed through ReLU. The shortcut is the identity, or a projection (1×1 convolution and BatchNorm)
/// where the block changes the channel count or the resolution.
/// </summary>
/// <remarks>
/// State_dict keys follow TorchVision's BasicBlock (<c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c>,
/// <c>downsample.0</c>, <c>downsample.1</c>). The BatchNorm layers are held as <c>Module&lt;Tensor, Tensor&gt;</c> so
/// that <see cref="GhostBatchNormSurgery.ApplyGhostBatchNorm"/> can replace them.
/// </remarks>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly nn.Module<Tensor, Tensor> bn1;
    private readonly nn.Module<Tensor, Tensor> conv2;
    private readonly nn.Module<Tensor, Tensor> bn2;
    private readonly nn.Module<Tensor, Tensor>? downsample;

    /// <summary>Creates the block.</summary>
    /// <param name="inputChannels">Channels of the block's input.</param>
    /// <param name="outputChannels">Channels of the block's output.</param>
    /// <param name="stride">Stride of the first convolution and of the projection: 1, or 2 to halve the resolution.</param>
    /// <param name="zeroInitResidual">
    /// Whether the scale of the residual branch's last BatchNorm starts at zero, so the block starts as its shortcut
    /// (Goyal et al. 2017). It is set here, on the tensor itself, so it survives a later swap of the layer for a ghost
    /// layer, which takes over the same tensors.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A channel count or the stride is not positive.</exception>
    public BasicBlock(int inputChannels, int outputChannels, int stride = 1, bool zeroInitResidual = false)
        : base(nameof(BasicBlock))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);

        conv1 = nn.Conv2d(inputChannels, outputChannels, kernel_size: 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(outputChannels);
        conv2 = nn.Conv2d(outputChannels, outputChannels, kernel_size: 3, stride: 1, padding: 1, bias: false);
        var lastNorm = nn.BatchNorm2d(outputChannels);
        if (zeroInitResidual)
        {
            nn.init.zeros_(lastNorm.weight);
        }

        bn2 = lastNorm;
        downsample = ResidualShortcut.Create(inputChannels, outputChannels, stride);
        RegisterComponents();
    }

    /// <summary>Applies the block.</summary>
    /// <param name="input">Activations of shape [N, inputChannels, H, W].</param>
    /// <returns>Activations of shape [N, outputChannels, ⌈H / stride⌉, ⌈W / stride⌉].</returns>
    public override Tensor forward(Tensor input)
    {
        var residual = nn.functional.relu(bn1.call(conv1.call(input)));
        residual = bn2.call(conv2.call(residual));
        var shortcut = downsample is null ? input : downsample.call(input);
        // The sum is a fresh tensor no backward step reads, so ReLU may overwrite it; the normalization output is
        // left alone, as a replacement layer's backward may need it.
        return (residual + shortcut).relu_();
    }

    /// <inheritdoc/>
    string IOnnxExportable.AddToOnnxGraph(OnnxGraphBuilder graph, string input) => graph.Residual(input, x =>
    {
        var residual = graph.Relu(graph.Chain(x, [("conv1", conv1), ("bn1", bn1)]));
        return graph.Chain(residual, [("conv2", conv2), ("bn2", bn2)]);
    }, downsample);
}
