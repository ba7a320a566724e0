using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>
/// Random crop with zero padding and random horizontal flip of an image batch [N, C, H, W], done with whole-batch
/// tensor operations on the batch's own device (no per-sample loop).
/// </summary>
internal sealed class ImageAugmentation
{
    private readonly int _padding;
    private readonly bool _horizontalFlip;

    /// <summary>Creates the augmentation.</summary>
    /// <param name="padding">Pixels of zero padding on each side before the random crop; 0 for no crop.</param>
    /// <param name="horizontalFlip">Whether half of the samples are mirrored left to right.</param>
    public ImageAugmentation(int padding, bool horizontalFlip)
    {
        _padding = padding;
        _horizontalFlip = horizontalFlip;
    }

    /// <summary>Whether the augmentation changes anything.</summary>
    public bool IsActive => _padding > 0 || _horizontalFlip;

    /// <summary>Returns the augmented batch; randomness comes from <paramref name="generator"/> (on the CPU).</summary>
    public Tensor Apply(Tensor images, Generator generator)
    {
        long n = images.shape[0];
        var result = images;
        if (_padding > 0)
        {
            result = RandomCrop(result, generator);
        }

        if (_horizontalFlip)
        {
            var flip = (torch.rand(n, generator: generator) < 0.5).to(images.device).view(n, 1, 1, 1);
            result = torch.where(flip, result.flip(3), result);
        }

        return result;
    }

    private Tensor RandomCrop(Tensor images, Generator generator)
    {
        long n = images.shape[0], channels = images.shape[1], height = images.shape[2], width = images.shape[3];
        var padded = torch.nn.functional.pad(images, [_padding, _padding, _padding, _padding]);
        var device = images.device;

        // Each sample's window starts at a random offset in [0, 2·padding]; gathering rows then columns with
        // per-sample index grids crops every sample in one call per axis.
        var rowOffsets = torch.randint(0, (2 * _padding) + 1, [n, 1], generator: generator).to(device);
        var columnOffsets = torch.randint(0, (2 * _padding) + 1, [n, 1], generator: generator).to(device);
        var rows = (rowOffsets + torch.arange(height, device: device)).view(n, 1, height, 1).expand(n, channels, height, width + (2 * _padding));
        var croppedRows = padded.gather(2, rows);
        var columns = (columnOffsets + torch.arange(width, device: device)).view(n, 1, 1, width).expand(n, channels, height, width);
        return croppedRows.gather(3, columns);
    }
}
