using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Features;

/// <summary>
/// Turns stored samples into what the network reads: float values, optionally standardized per channel with the
/// training set's mean and standard deviation (kept with the model so scoring does exactly the same).
/// </summary>
internal sealed class NetworkInput
{
    /// <summary>Samples per chunk when measuring statistics, to bound the float copy of a large training set.</summary>
    private const long MeasureChunk = 4096;

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

    /// <summary>
    /// An input stage that standardizes each channel (dimension 1 of the samples) with statistics measured on
    /// <paramref name="samples"/>.
    /// </summary>
    public static NetworkInput Standardized(FeatureFormat format, Tensor samples)
    {
        long channels = samples.shape[1];
        using var sum = torch.zeros(channels, ScalarType.Float64);
        using var sumOfSquares = torch.zeros(channels, ScalarType.Float64);
        long valuesPerChannel = 0;
        for (long start = 0; start < samples.shape[0]; start += MeasureChunk)
        {
            using var scope = torch.NewDisposeScope();
            var chunk = format.ToFloat(samples.narrow(0, start, Math.Min(MeasureChunk, samples.shape[0] - start)))
                .to(ScalarType.Float64).transpose(0, 1).reshape(channels, -1);
            sum.add_(chunk.sum(dim: 1));
            sumOfSquares.add_(chunk.square().sum(dim: 1));
            valuesPerChannel += chunk.shape[1];
        }

        using var mean = sum / valuesPerChannel;
        using var variance = (sumOfSquares / valuesPerChannel) - mean.square();
        using var std = variance.clamp_min(1e-12).sqrt();
        return new NetworkInput(format, ToFloats(mean), ToFloats(std));
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

    private static float[] ToFloats(Tensor values) => values.to(ScalarType.Float32).data<float>().ToArray();
}
