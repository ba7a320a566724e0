using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Models;

/// <summary>The shortcut of a residual block, shared by <see cref="BasicBlock"/> and <see cref="Bottleneck"/>.</summary>
internal static class ResidualShortcut
{
    /// <summary>
    /// The projection (1×1 convolution and BatchNorm, registered as <c>downsample.0</c> and <c>downsample.1</c> as in
    /// TorchVision) where the block changes the channel count or the resolution; null where the identity serves.
    /// </summary>
    public static nn.Module<Tensor, Tensor>? Create(int inputChannels, int outputChannels, int stride) =>
        stride == 1 && inputChannels == outputChannels
            ? null
            : nn.Sequential(
                nn.Conv2d(inputChannels, outputChannels, kernel_size: 1, stride: stride, bias: false),
                nn.BatchNorm2d(outputChannels));
}
