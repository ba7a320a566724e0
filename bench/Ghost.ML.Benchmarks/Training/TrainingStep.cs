using Ghost.ML.Torch;
using Ghost.ML.Torch.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Benchmarks.Training;

/// <summary>
/// One SGD training step of a CIFAR-style ResNet on a fixed random batch, with plain BatchNorm or with ghost layers.
/// </summary>
internal sealed class TrainingStep : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly optim.Optimizer _optimizer;
    private readonly Tensor _images;
    private readonly Tensor _labels;

    /// <summary>Builds the model (same seed for every variant) and the batch.</summary>
    /// <param name="architecture">The ResNet to train.</param>
    /// <param name="batchSize">Images per step.</param>
    /// <param name="imageSize">Height and width of the images.</param>
    /// <param name="ghostBatchSize">Ghost batch size, or null for plain BatchNorm.</param>
    public TrainingStep(ResNetArchitecture architecture, int batchSize, int imageSize, int? ghostBatchSize)
    {
        manual_seed(1);
        _model = ResNetFactory.Create(architecture, numClasses: 10);
        _optimizer = optim.SGD(_model.parameters(), learningRate: 0.05, momentum: 0.9);
        if (ghostBatchSize is { } size)
        {
            _model.ApplyGhostBatchNorm(size, _optimizer);
        }

        _model.train();
        _images = randn(batchSize, 3, imageSize, imageSize);
        _labels = randint(0, 10, [batchSize]);
    }

    /// <summary>Forward, loss, backward and optimizer step.</summary>
    public void Run() => Run(_model, _optimizer, _images, _labels);

    /// <summary>Forward, cross-entropy loss, backward and optimizer step of <paramref name="model"/> on one batch.</summary>
    public static void Run(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor images, Tensor labels)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(images), labels);
        loss.backward();
        optimizer.step();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
        _images.Dispose();
        _labels.Dispose();
    }
}
