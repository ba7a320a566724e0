using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Ghost.ML.Benchmarks.Layers;

/// <summary>
/// The straightforward ghost batch normalization the speed goals are measured against: split the batch, run one
/// native batch_norm per ghost batch (running statistics updated with momentum m/n each time), concatenate.
/// </summary>
internal static class ChunkLoopBatchNorm
{
    /// <summary>Normalizes <paramref name="input"/> ghost batch by ghost batch with the parameters of <paramref name="layer"/>.</summary>
    public static Tensor Forward(BatchNorm layer, Tensor input, int ghostBatchSize)
    {
        var chunks = input.split(ghostBatchSize, 0);
        var factor = (layer.momentum ?? 0.1) / chunks.Length;
        var outputs = chunks
            .Select(chunk => F.batch_norm(chunk, layer.running_mean, layer.running_var, layer.weight, layer.bias,
                training: true, momentum: factor, eps: layer.eps))
            .ToArray();
        layer.num_batches_tracked?.add_(chunks.Length);
        return cat(outputs, 0);
    }
}
