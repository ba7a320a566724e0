using Ghost.ML.Benchmarks.Data;
using Ghost.ML.Benchmarks.Training;
using Ghost.ML.Torch;
using Ghost.ML.Torch.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Benchmarks.Estimators;

/// <summary>
/// The baseline of goal 3: what the image classifier's epoch does, written directly in TorchSharp over images that are
/// already decoded and standardised — the same ResNet-20 with ghost layers, SGD with Nesterov momentum and weight decay,
/// shuffled batches, no augmentation.
/// </summary>
internal sealed class BareTrainingLoop : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly optim.Optimizer _optimizer;
    private readonly Tensor _images;
    private readonly Tensor _labels;
    private readonly Generator _generator = new(1);
    private readonly int _batchSize;

    /// <summary>Builds the network and holds <paramref name="images"/> as tensors.</summary>
    /// <param name="images">The training images.</param>
    /// <param name="batchSize">Images per step.</param>
    /// <param name="ghostBatchSize">Ghost batch size; 0 for plain BatchNorm.</param>
    public BareTrainingLoop(GreyImages images, int batchSize, int ghostBatchSize)
    {
        manual_seed(1);
        _model = ResNetFactory.Create(ResNetArchitecture.ResNet20, numClasses: 10, inputChannels: 1);
        if (ghostBatchSize > 0)
        {
            _model.ApplyGhostBatchNorm(ghostBatchSize);
        }

        _optimizer = optim.SGD(_model.parameters(), 0.1, momentum: 0.9, weight_decay: 5e-4, nesterov: true);
        _images = images.StandardizedImages();
        _labels = images.LabelTensor();
        _batchSize = batchSize;
    }

    /// <summary>Images per epoch.</summary>
    public long Count => _labels.shape[0];

    /// <summary>One pass over the images in a fresh random order.</summary>
    public void RunEpoch()
    {
        _model.train();
        using var order = randperm(Count, generator: _generator);
        for (long start = 0; start < Count; start += _batchSize)
        {
            using var scope = NewDisposeScope();
            var indices = order.narrow(0, start, Math.Min(_batchSize, Count - start));
            TrainingStep.Run(_model, _optimizer, _images.index_select(0, indices), _labels.index_select(0, indices));
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
        _images.Dispose();
        _labels.Dispose();
        _generator.Dispose();
    }
}
