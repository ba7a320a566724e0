using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Features;

/// <summary>
/// Turns stored samples into what the network reads: float values, optionally standardized per channel with the
/// training set's mean and standard deviation (kept with the model so scoring does exactly the same).
/// </summary>
internal sealed class NetworkInput
{
    /// <summary>Creates the input stage.</summary>
    /// <param name="format">The feature format.</param>
    /// <param name="channelMean">Per-channel mean to subtract, or null for no standardization.</param>
    /// <param name="channelStd">Per-channel standard deviation to divide by; given with <paramref name="channelMean"/>.</param>
    public NetworkInput(FeatureFormat format, float[]? channelMean = null, float[]? channelStd = null)
    {
        Format = format;
        ChannelMean = channelMean;
        ChannelStd = channelStd;
    }

    /// <summary>The feature format.</summary>
    public FeatureFormat Format { get; }

    /// <summary>Per-channel mean subtracted from the input, or null.</summary>
    public float[]? ChannelMean { get; }

    /// <summary>Per-channel standard deviation the input is divided by, or null.</summary>
    public float[]? ChannelStd { get; }

    /// <summary>An input stage that standardizes each channel with <paramref name="statistics"/> of the training set.</summary>
    public static NetworkInput Standardized(FeatureFormat format, ChannelStatistics statistics)
    {
        var (mean, std) = statistics.Result((int)format.SampleShape[0]);
        return new NetworkInput(format, mean, std);
    }

    /// <summary>Moves stored samples to <paramref name="device"/> and converts them to standardized float input.</summary>
    public Tensor Prepare(Tensor stored, Device device)
    {
        var input = Format.ToFloat(stored.to(device));
        if (ChannelMean is null || ChannelStd is null)
        {
            return input;
        }

        long[] channelShape = [1, ChannelMean.Length, .. Enumerable.Repeat(1L, (int)input.ndim - 2)];
        using var mean = torch.tensor(ChannelMean, device: device).view(channelShape);
        using var std = torch.tensor(ChannelStd, device: device).view(channelShape);
        return input.sub(mean).div_(std);
    }
}
