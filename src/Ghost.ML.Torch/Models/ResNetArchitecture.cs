namespace Ghost.ML.Torch.Models;

/// <summary>The residual networks <see cref="ResNetFactory"/> builds.</summary>
/// <remarks>
/// ResNet20 to ResNet110 are the CIFAR networks of He et al. 2016 (<see cref="CifarResNet"/>): 16 to 64 channels at
/// full, half and quarter resolution, made for images of about 32×32 (at least 8×8), quick to train from scratch on
/// a CPU. ResNet18, ResNet34 and ResNet50 are the ImageNet networks (<see cref="ImageNetResNet"/>), TorchVision-compatible
/// down to the state_dict keys: they reduce the resolution 32-fold, so they are made for images of 224×224 and want at
/// least 64×64 to keep some spatial detail (they run on 8×8 and up). Parameter counts are for 10 classes and colour
/// input.
/// </remarks>
public enum ResNetArchitecture
{
    /// <summary>CIFAR ResNet, 20 layers (3 blocks per stage), 0.27M parameters; for images of about 32×32.</summary>
    ResNet20,

    /// <summary>CIFAR ResNet, 32 layers (5 blocks per stage), 0.47M parameters; for images of about 32×32.</summary>
    ResNet32,

    /// <summary>CIFAR ResNet, 44 layers (7 blocks per stage), 0.66M parameters; for images of about 32×32.</summary>
    ResNet44,

    /// <summary>CIFAR ResNet, 56 layers (9 blocks per stage), 0.86M parameters; for images of about 32×32.</summary>
    ResNet56,

    /// <summary>CIFAR ResNet, 110 layers (18 blocks per stage), 1.7M parameters; for images of about 32×32.</summary>
    ResNet110,

    /// <summary>TorchVision-compatible ResNet-18 (BasicBlocks 2-2-2-2), 11.2M parameters; for images of 64×64 to 224×224.</summary>
    ResNet18,

    /// <summary>TorchVision-compatible ResNet-34 (BasicBlocks 3-4-6-3), 21.3M parameters; for images of 64×64 to 224×224.</summary>
    ResNet34,

    /// <summary>TorchVision-compatible ResNet-50 (Bottlenecks 3-4-6-3), 23.5M parameters; for images of 64×64 to 224×224.</summary>
    ResNet50,
}
