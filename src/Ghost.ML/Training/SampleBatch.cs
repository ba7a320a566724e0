using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>One batch of stored samples (CPU) and their class indices; disposing it frees both.</summary>
internal sealed class SampleBatch : IDisposable
{
    /// <summary>Creates the batch, which takes ownership of both tensors.</summary>
    public SampleBatch(Tensor samples, Tensor labels)
    {
        Samples = samples;
        Labels = labels;
    }

    /// <summary>The stored samples, [n, ...sample shape].</summary>
    public Tensor Samples { get; }

    /// <summary>Zero-based class indices, int64 [n].</summary>
    public Tensor Labels { get; }

    /// <summary>Samples in the batch.</summary>
    public long Count => Labels.shape[0];

    /// <inheritdoc/>
    public void Dispose()
    {
        Samples.Dispose();
        Labels.Dispose();
    }
}
