using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Models;

/// <summary>Creates the networks of <see cref="ResNetArchitecture"/> with freshly initialized weights.</summary>
/// <example>
/// <code>
/// torch.manual_seed(42);
/// using var model = ResNetFactory.Create(ResNetArchitecture.ResNet20, numClasses: 10, inputChannels: 1);
/// model.ApplyGhostBatchNorm(ghostBatchSize: 32);
/// </code>
/// </example>
public static class ResNetFactory
{
    /// <summary>Creates a classifier of the given architecture.</summary>
    /// <param name="architecture">The network.</param>
    /// <param name="numClasses">Classes, i.e. logits per image; at least 2.</param>
    /// <param name="inputChannels">Channels of the input images: 1 for grey, 3 for colour.</param>
    /// <param name="device">Device to place the network on; the CPU when null.</param>
    /// <returns>
    /// A network that maps images [N, <paramref name="inputChannels"/>, H, W] with H, W ≥ 8 to logits
    /// [N, <paramref name="numClasses"/>]. Its normalization layers are plain BatchNorm2d, ready for
    /// <see cref="GhostBatchNormSurgery.ApplyGhostBatchNorm"/>. The weights depend only on <c>torch.manual_seed</c>.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="architecture"/> is not a defined value, <paramref name="numClasses"/> is below 2 or
    /// <paramref name="inputChannels"/> is not positive.
    /// </exception>
    public static nn.Module<Tensor, Tensor> Create(ResNetArchitecture architecture, int numClasses, int inputChannels = 3, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputChannels);
        return architecture switch
        {
            ResNetArchitecture.ResNet20 => new CifarResNet(20, numClasses, inputChannels, device: device),
            ResNetArchitecture.ResNet32 => new CifarResNet(32, numClasses, inputChannels, device: device),
            ResNetArchitecture.ResNet44 => new CifarResNet(44, numClasses, inputChannels, device: device),
            ResNetArchitecture.ResNet56 => new CifarResNet(56, numClasses, inputChannels, device: device),
            ResNetArchitecture.ResNet110 => new CifarResNet(110, numClasses, inputChannels, device: device),
            ResNetArchitecture.ResNet18 => FromTorchVision(torchvision.models.resnet18(num_classes: numClasses), inputChannels, device),
            ResNetArchitecture.ResNet34 => FromTorchVision(torchvision.models.resnet34(num_classes: numClasses), inputChannels, device),
            ResNetArchitecture.ResNet50 => FromTorchVision(torchvision.models.resnet50(num_classes: numClasses), inputChannels, device),
            _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, "Unknown ResNet architecture."),
        };
    }

    /// <summary>
    /// Fits TorchVision's ImageNet ResNet, built on the CPU, to the input channels and moves it to the device.
    /// </summary>
    /// <remarks>
    /// TorchVision's stem convolution takes 3 channels. For other counts it is swapped for the same 7×7 stride-2
    /// convolution over <paramref name="inputChannels"/>, initialized as TorchVision initializes it. That is what
    /// repeating a grey channel three times would compute (the three weight slices summed) without tripling the
    /// stem's work, it serves any channel count, and the state_dict keeps TorchVision's keys (<c>conv1.weight</c>).
    /// </remarks>
    private static nn.Module<Tensor, Tensor> FromTorchVision(ResNet model, int inputChannels, Device? device)
    {
        if (inputChannels != 3)
        {
            var stem = model.named_children().Single(child => child.name == "conv1").module;
            var channelStem = nn.Conv2d(inputChannels, 64, kernel_size: 7, stride: 2, padding: 3, bias: false);
            CifarResNet.InitializeConvolution(channelStem);
            ModuleReplacement.Replace(model, stem, channelStem);
            stem.Dispose();
        }

        if (device is not null)
        {
            model.to(device);
        }

        return model;
    }
}
