using System.Globalization;

namespace Ghost.ML;

/// <summary>
/// Per-channel mean and standard deviation the network's input is standardized with: <c>(x - Mean[c]) / StdDev[c]</c>,
/// on pixels scaled to [0, 1] for images. Saved with the model, so scoring and export prepare input the same way.
/// </summary>
/// <remarks>
/// Pretrained weights expect the normalization they were trained with: TorchVision's ImageNet weights expect
/// <see cref="ImageNet"/>. A three-channel normalization applied to grey images uses the mean of its means and of
/// its deviations (for ImageNet 0.449 and 0.226), as timm does.
/// </remarks>
public sealed class InputNormalization
{
    /// <summary>Creates a normalization.</summary>
    /// <param name="mean">The mean of each channel.</param>
    /// <param name="stdDev">The standard deviation of each channel; positive, as many as <paramref name="mean"/>.</param>
    /// <exception cref="ArgumentException">The lists are empty, of different lengths, or hold a non-finite value or a deviation that is not positive.</exception>
    public InputNormalization(IReadOnlyList<float> mean, IReadOnlyList<float> stdDev)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(stdDev);
        if (mean.Count == 0 || mean.Any(value => !float.IsFinite(value)))
        {
            throw new ArgumentException("The mean must list one finite value per channel.", nameof(mean));
        }

        if (stdDev.Count != mean.Count || stdDev.Any(value => !float.IsFinite(value) || value <= 0))
        {
            throw new ArgumentException($"The standard deviation must list {mean.Count} finite positive values, one per channel of the mean.", nameof(stdDev));
        }

        Mean = [.. mean];
        StdDev = [.. stdDev];
    }

    /// <summary>ImageNet's statistics in RGB order, which TorchVision's pretrained weights expect.</summary>
    public static InputNormalization ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>The mean of each channel.</summary>
    public IReadOnlyList<float> Mean { get; }

    /// <summary>The standard deviation of each channel.</summary>
    public IReadOnlyList<float> StdDev { get; }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"mean [{string.Join(", ", Mean.Select(value => value.ToString("G4", CultureInfo.InvariantCulture)))}], std [{string.Join(", ", StdDev.Select(value => value.ToString("G4", CultureInfo.InvariantCulture)))}]");

    /// <summary>The mean and deviation for input of <paramref name="channels"/> channels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The channel counts do not fit (only one value, or three for grey input, adapt).</exception>
    internal (float[] Mean, float[] StdDev) ForChannels(long channels)
    {
        if (Mean.Count == channels)
        {
            return ([.. Mean], [.. StdDev]);
        }

        if (Mean.Count == 1)
        {
            return (Enumerable.Repeat(Mean[0], (int)channels).ToArray(), Enumerable.Repeat(StdDev[0], (int)channels).ToArray());
        }

        if (channels == 1)
        {
            return ([Mean.Average()], [StdDev.Average()]);
        }

        throw new ArgumentOutOfRangeException(nameof(GhostBatchNormTrainingOptions.InputNormalization),
            $"InputNormalization has {Mean.Count} channels and the input {channels}.");
    }
}
