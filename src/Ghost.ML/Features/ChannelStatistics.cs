using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Features;

/// <summary>
/// Per-channel mean and standard deviation of float samples [n, C, ...], accumulated chunk by chunk (in float64) while
/// the training set is read, so that the statistics need neither the whole set in memory nor a pass of their own.
/// </summary>
internal sealed class ChannelStatistics : IDisposable
{
    private Tensor? _sum;
    private Tensor? _sumOfSquares;
    private long _valuesPerChannel;

    /// <summary>Float values converted at a time: bounds the float copies of a chunk of large images to 64 MiB.</summary>
    private const long SliceValues = 8L << 20;

    /// <summary>Adds a chunk of stored samples of <paramref name="format"/>, converted to float a slice at a time; dimension 1 is the channel.</summary>
    public void Add(Tensor stored, FeatureFormat format)
    {
        long rows = stored.shape[0];
        long slice = Math.Max(1, SliceValues / Math.Max(1, stored.numel() / Math.Max(1, rows)));
        for (long start = 0; start < rows; start += slice)
        {
            // The scope frees the float copy; a float slice converts to itself, a view freed with the scope too.
            using var scope = torch.NewDisposeScope();
            Add(format.ToFloat(stored.narrow(0, start, Math.Min(slice, rows - start))));
        }
    }

    private void Add(Tensor samples)
    {
        using var scope = torch.NewDisposeScope();
        long channels = samples.shape[1];
        // Reduced in place over every dimension but the channel, accumulating in float64: no float64 copy of the chunk.
        long[] otherDimensions = [0, .. Enumerable.Range(2, (int)samples.ndim - 2).Select(dimension => (long)dimension)];
        _sum ??= torch.zeros(channels, ScalarType.Float64).DetachFromDisposeScope();
        _sumOfSquares ??= torch.zeros(channels, ScalarType.Float64).DetachFromDisposeScope();
        _sum.add_(samples.sum(otherDimensions, type: ScalarType.Float64));
        _sumOfSquares.add_(samples.square().sum(otherDimensions, type: ScalarType.Float64));
        _valuesPerChannel += samples.numel() / channels;
    }

    /// <summary>Mean and standard deviation of the first <paramref name="channels"/> channels.</summary>
    /// <exception cref="InvalidOperationException">Nothing was added.</exception>
    public (float[] Mean, float[] Std) Result(int channels)
    {
        if (_sum is null || _sumOfSquares is null)
        {
            throw new InvalidOperationException("No samples were measured.");
        }

        using var scope = torch.NewDisposeScope();
        var mean = _sum.narrow(0, 0, channels) / _valuesPerChannel;
        var variance = (_sumOfSquares.narrow(0, 0, channels) / _valuesPerChannel) - mean.square();
        return (ToFloats(mean), ToFloats(variance.clamp_min(1e-12).sqrt()));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _sum?.Dispose();
        _sumOfSquares?.Dispose();
    }

    private static float[] ToFloats(Tensor values) => values.to(ScalarType.Float32).data<float>().ToArray();
}
