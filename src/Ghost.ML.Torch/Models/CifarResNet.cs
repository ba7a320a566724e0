using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Models;

/// <summary>
/// The CIFAR ResNet of depth 6n + 2 (He et al. 2016, section 4.2) for small images: a 3×3 convolution to 16 channels,
/// three stages of n <see cref="BasicBlock"/>s with 16, 32 and 64 channels (the second and third start with stride 2),
/// global average pooling and a linear classifier.
/// </summary>
/// <remarks>
/// <para>
/// Where a block changes shape, its shortcut is a projection (1×1 convolution and BatchNorm, He et al.'s option B).
/// Convolutions start Kaiming-normal (fan-out, ReLU gain, as TorchVision's ResNets), BatchNorm scales at 1 and
/// shifts at 0. The pooling is adaptive, so any input of at least 8×8 pixels works; the network is designed for
/// 32×32.
/// </para>
/// <para>
/// The BatchNorm layers are plain <see cref="BatchNorm2d"/> held as <c>Module&lt;Tensor, Tensor&gt;</c>, ready for
/// <see cref="GhostBatchNormSurgery.ApplyGhostBatchNorm"/>. State_dict keys follow TorchVision's ResNet
/// (<c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>, …, <c>fc</c>). Weights are drawn from TorchSharp's generator on
/// the CPU, so <c>torch.manual_seed</c> makes them reproducible on every device.
/// </para>
/// </remarks>
public sealed class CifarResNet : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly nn.Module<Tensor, Tensor> bn1;
    private readonly nn.Module<Tensor, Tensor> layer1;
    private readonly nn.Module<Tensor, Tensor> layer2;
    private readonly nn.Module<Tensor, Tensor> layer3;
    private readonly nn.Module<Tensor, Tensor> avgpool;
    private readonly nn.Module<Tensor, Tensor> flatten;
    private readonly nn.Module<Tensor, Tensor> fc;

    /// <summary>Creates the network.</summary>
    /// <param name="depth">Layers with weights: 6n + 2 for n ≥ 1, e.g. 20, 32, 44, 56 or 110.</param>
    /// <param name="numClasses">Classes, i.e. logits per image; at least 2.</param>
    /// <param name="inputChannels">Channels of the input images: 1 for grey, 3 for colour.</param>
    /// <param name="zeroInitResidual">
    /// Whether the last BatchNorm of every residual branch starts with scale 0, so each block starts as its shortcut
    /// (Goyal et al. 2017; often helps large-batch training). Off by default, as in He et al.
    /// </param>
    /// <param name="device">Device to place the network on; the CPU when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="depth"/> is not of the form 6n + 2, <paramref name="numClasses"/> is below 2 or
    /// <paramref name="inputChannels"/> is not positive.
    /// </exception>
    public CifarResNet(int depth, int numClasses, int inputChannels = 3, bool zeroInitResidual = false, Device? device = null)
        : base($"ResNet{depth}")
    {
        if (depth < 8 || (depth - 2) % 6 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "A CIFAR ResNet has 6n + 2 layers for some n >= 1 (20, 32, 44, 56, 110, ...).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);

        var blocksPerStage = (depth - 2) / 6;
        conv1 = nn.Conv2d(inputChannels, 16, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(16);
        layer1 = Stage(16, 16, blocksPerStage, stride: 1, zeroInitResidual);
        layer2 = Stage(16, 32, blocksPerStage, stride: 2, zeroInitResidual);
        layer3 = Stage(32, 64, blocksPerStage, stride: 2, zeroInitResidual);
        avgpool = nn.AdaptiveAvgPool2d(1);
        flatten = nn.Flatten();
        fc = nn.Linear(64, numClasses);
        RegisterComponents();
        ResNetInitialization.InitializeConvolutions(this);

        if (device is not null)
        {
            this.to(device);
        }
    }

    /// <summary>Computes the logits.</summary>
    /// <param name="input">Images of shape [N, inputChannels, H, W] with H, W ≥ 8.</param>
    /// <returns>Logits of shape [N, numClasses].</returns>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(bn1.call(conv1.call(input)));
        x = layer3.call(layer2.call(layer1.call(x)));
        return fc.call(flatten.call(avgpool.call(x))).MoveToOuterDisposeScope();
    }

    private static Sequential Stage(int inputChannels, int outputChannels, int blocks, int stride, bool zeroInitResidual)
    {
        var stage = nn.Sequential(new BasicBlock(inputChannels, outputChannels, stride, zeroInitResidual));
        for (var i = 1; i < blocks; i++)
        {
            stage.append(new BasicBlock(outputChannels, outputChannels, 1, zeroInitResidual));
        }

        return stage;
    }

    /// <inheritdoc/>
    string IOnnxExportable.AddToOnnxGraph(OnnxGraphBuilder graph, string input)
    {
        var x = graph.Relu(graph.Chain(input, [("conv1", conv1), ("bn1", bn1)]));
        return graph.Chain(x, [("layer1", layer1), ("layer2", layer2), ("layer3", layer3), ("avgpool", avgpool), ("flatten", flatten), ("fc", fc)]);
    }
}
