using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Models;

/// <summary>
/// The ImageNet ResNets of He et al. 2016 as TorchVision builds them: a 7×7 stride-2 convolution to 64 channels,
/// 3×3 stride-2 max pooling, four stages with 64, 128, 256 and 512 bottleneck widths (the last three start with
/// stride 2), global average pooling and a linear classifier. ResNet-18 and ResNet-34 stack <see cref="BasicBlock"/>s
/// (2-2-2-2 and 3-4-6-3), ResNet-50 <see cref="Bottleneck"/>s (3-4-6-3).
/// </summary>
/// <remarks>
/// <para>
/// Module names, state_dict keys and shapes are TorchVision's (<c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>, …,
/// <c>layer2.0.downsample.1.running_var</c>, <c>fc</c>), so a state_dict saved from TorchVision or PyTorch loads key
/// for key with <c>load_state_dict</c>. So is the initialization: convolutions Kaiming-normal (fan-out, ReLU gain),
/// BatchNorm scales at 1 and shifts at 0, the classifier at TorchSharp's Linear default.
/// </para>
/// <para>
/// The stem convolution reads <c>inputChannels</c> channels. For grey input that is what repeating the grey channel
/// three times would compute (the three weight slices summed) without tripling the stem's work; its weights are
/// initialized like the colour stem's, with the same spread. The network reduces the resolution 32-fold: it is made
/// for 224×224 images and wants at least 64×64 to keep some spatial detail, but runs on 8×8 and up.
/// </para>
/// </remarks>
public sealed class ImageNetResNet : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private const int StemChannels = 64;

    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly nn.Module<Tensor, Tensor> bn1;
    private readonly nn.Module<Tensor, Tensor> relu;
    private readonly nn.Module<Tensor, Tensor> maxpool;
    private readonly nn.Module<Tensor, Tensor> layer1;
    private readonly nn.Module<Tensor, Tensor> layer2;
    private readonly nn.Module<Tensor, Tensor> layer3;
    private readonly nn.Module<Tensor, Tensor> layer4;
    private readonly nn.Module<Tensor, Tensor> avgpool;
    private readonly nn.Module<Tensor, Tensor> flatten;
    private readonly nn.Module<Tensor, Tensor> fc;

    /// <summary>Creates the network.</summary>
    /// <param name="depth">Layers with weights: 18, 34 or 50.</param>
    /// <param name="numClasses">Classes, i.e. logits per image; at least 2.</param>
    /// <param name="inputChannels">Channels of the input images: 1 for grey, 3 for colour.</param>
    /// <param name="zeroInitResidual">
    /// Whether the last BatchNorm of every residual branch starts with scale 0, so each block starts as its shortcut
    /// (Goyal et al. 2017; TorchVision's <c>zero_init_residual</c>). Off by default, as in TorchVision.
    /// </param>
    /// <param name="device">Device to place the network on; the CPU when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="depth"/> is not 18, 34 or 50, <paramref name="numClasses"/> is below 2 or
    /// <paramref name="inputChannels"/> is not positive.
    /// </exception>
    public ImageNetResNet(int depth, int numClasses, int inputChannels = 3, bool zeroInitResidual = false, Device? device = null)
        : base($"ResNet{depth}")
    {
        var (blocksPerStage, bottleneck) = depth switch
        {
            18 => (new[] { 2, 2, 2, 2 }, false),
            34 => (new[] { 3, 4, 6, 3 }, false),
            50 => (new[] { 3, 4, 6, 3 }, true),
            _ => throw new ArgumentOutOfRangeException(nameof(depth), depth, "The ImageNet ResNets built here have 18, 34 or 50 layers."),
        };
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);

        conv1 = nn.Conv2d(inputChannels, StemChannels, kernel_size: 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm2d(StemChannels);
        relu = nn.ReLU();
        maxpool = nn.MaxPool2d(kernel_size: 3, stride: 2, padding: 1);
        var expansion = bottleneck ? Bottleneck.Expansion : 1;
        var channels = StemChannels;
        layer1 = Stage(ref channels, 64, blocksPerStage[0], stride: 1, bottleneck, zeroInitResidual);
        layer2 = Stage(ref channels, 128, blocksPerStage[1], stride: 2, bottleneck, zeroInitResidual);
        layer3 = Stage(ref channels, 256, blocksPerStage[2], stride: 2, bottleneck, zeroInitResidual);
        layer4 = Stage(ref channels, 512, blocksPerStage[3], stride: 2, bottleneck, zeroInitResidual);
        avgpool = nn.AdaptiveAvgPool2d(1);
        flatten = nn.Flatten();
        fc = nn.Linear(512 * expansion, numClasses);
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
        var x = maxpool.call(relu.call(bn1.call(conv1.call(input))));
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        return fc.call(flatten.call(avgpool.call(x))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One stage: its first block takes <paramref name="channels"/> channels at <paramref name="stride"/>, the rest
    /// keep shape; <paramref name="channels"/> becomes the stage's output channel count.
    /// </summary>
    private static Sequential Stage(ref int channels, int width, int blocks, int stride, bool bottleneck, bool zeroInitResidual)
    {
        var stage = nn.Sequential();
        for (var i = 0; i < blocks; i++)
        {
            var blockStride = i == 0 ? stride : 1;
            stage.append(bottleneck
                ? new Bottleneck(channels, width, blockStride, zeroInitResidual)
                : new BasicBlock(channels, width, blockStride, zeroInitResidual));
            channels = bottleneck ? width * Bottleneck.Expansion : width;
        }

        return stage;
    }

    /// <inheritdoc/>
    string IOnnxExportable.AddToOnnxGraph(OnnxGraphBuilder graph, string input) =>
        graph.Chain(input,
        [
            ("conv1", conv1), ("bn1", bn1), ("relu", relu), ("maxpool", maxpool),
            ("layer1", layer1), ("layer2", layer2), ("layer3", layer3), ("layer4", layer4),
            ("avgpool", avgpool), ("flatten", flatten), ("fc", fc),
        ]);
}
