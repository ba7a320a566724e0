using TorchSharp;
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
            ResNetArchitecture.ResNet18 => new ImageNetResNet(18, numClasses, inputChannels, device: device),
            ResNetArchitecture.ResNet34 => new ImageNetResNet(34, numClasses, inputChannels, device: device),
            ResNetArchitecture.ResNet50 => new ImageNetResNet(50, numClasses, inputChannels, device: device),
            _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, "Unknown ResNet architecture."),
        };
    }
}
