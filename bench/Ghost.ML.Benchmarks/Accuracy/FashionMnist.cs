using Ghost.ML.Benchmarks.Data;
using static TorchSharp.torch;

namespace Ghost.ML.Benchmarks.Accuracy;

/// <summary>Fashion-MNIST as normalised image and label tensors.</summary>
/// <param name="Images">Images <c>[N, 1, 28, 28]</c>, standardised with the training set's mean and deviation.</param>
/// <param name="Labels">Class indices <c>[N]</c>.</param>
internal sealed record FashionMnist(Tensor Images, Tensor Labels)
{
    /// <summary>Loads the training or test split from <paramref name="directory"/>, at most <paramref name="limit"/> images.</summary>
    /// <exception cref="FileNotFoundException">A file of the split is missing.</exception>
    public static FashionMnist Load(string directory, bool training, int? limit)
    {
        var images = GreyImages.FashionMnist(directory, training, limit);
        return new FashionMnist(images.StandardizedImages(), images.LabelTensor());
    }
}
