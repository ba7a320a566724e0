using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Ghost.ML.Torch.Tests;

/// <summary>
/// The reference semantics written the slow, obvious way, after Composer's GhostBatchNorm: cut the batch with
/// <c>torch.chunk(x, ceil(N / G))</c> and run one native batch_norm per chunk, updating the running statistics
/// sequentially with momentum m/n (n = number of chunks).
/// </summary>
internal static class ReferenceGhostBatchNorm
{
    /// <summary>
    /// Ghost batch sizes: the sizes of <c>torch.chunk</c>'s chunks, except that G = 1 on one-value rows acts as 2 and a
    /// one-value last chunk joins the one before it (Ghost.ML's documented differences from Composer).
    /// </summary>
    public static List<long> GhostSizes(long batchSize, int ghostBatchSize, long valuesPerSample)
    {
        var size = valuesPerSample == 1 && ghostBatchSize == 1 ? 2 : ghostBatchSize;
        var chunks = (batchSize + size - 1) / size;
        var sizes = arange(batchSize).chunk(chunks).Select(chunk => chunk.shape[0]).ToList();
        if (sizes.Count > 1 && sizes[^1] * valuesPerSample == 1)
        {
            sizes[^2] += sizes[^1];
            sizes.RemoveAt(sizes.Count - 1);
        }

        return sizes;
    }

    /// <summary>Normalizes <paramref name="input"/> ghost batch by ghost batch, updating the given buffers in place.</summary>
    public static Tensor Forward(Tensor input, int ghostBatchSize, Tensor? runningMean, Tensor? runningVar,
        Tensor? numBatchesTracked, Tensor? weight, Tensor? bias, double? momentum, double eps)
    {
        var valuesPerSample = input.numel() / (input.shape[0] * input.shape[1]);
        var sizes = GhostSizes(input.shape[0], ghostBatchSize, valuesPerSample);
        var outputs = new List<Tensor>();
        long start = 0;
        foreach (var size in sizes)
        {
            var chunk = input.narrow(0, start, size);
            start += size;
            numBatchesTracked?.add_(1);
            var factor = momentum is null
                ? 1.0 / numBatchesTracked!.to_type(ScalarType.Float64).item<double>()
                : momentum.Value / sizes.Count;
            outputs.Add(F.batch_norm(chunk, runningMean, runningVar, weight, bias, training: true, momentum: factor, eps: eps));
        }

        return cat(outputs, 0);
    }
}
