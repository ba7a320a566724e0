using Ghost.ML.Torch;
using Ghost.ML.Torch.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests.Models;

[TestClass]
public sealed class ResNetFactoryTests
{
    [TestMethod]
    [DataRow(ResNetArchitecture.ResNet20, 1, 16, 16)]
    [DataRow(ResNetArchitecture.ResNet20, 3, 8, 12)]
    [DataRow(ResNetArchitecture.ResNet32, 1, 8, 8)]
    [DataRow(ResNetArchitecture.ResNet44, 3, 8, 8)]
    [DataRow(ResNetArchitecture.ResNet56, 1, 8, 8)]
    [DataRow(ResNetArchitecture.ResNet110, 1, 8, 8)]
    [DataRow(ResNetArchitecture.ResNet18, 1, 16, 16)]
    [DataRow(ResNetArchitecture.ResNet18, 3, 8, 8)]
    [DataRow(ResNetArchitecture.ResNet34, 1, 8, 8)]
    [DataRow(ResNetArchitecture.ResNet50, 3, 32, 32)]
    public void LogitsHaveOneRowPerImageAndOneColumnPerClass(ResNetArchitecture architecture, int channels, int height, int width)
    {
        manual_seed(1);
        using var model = ResNetFactory.Create(architecture, numClasses: 7, inputChannels: channels);
        using var noGrad = no_grad();

        var logits = model.call(randn(4, channels, height, width));

        CollectionAssert.AreEqual(new long[] { 4, 7 }, logits.shape);
        TensorAssert.AllFinite(logits, "logits");
    }

    [TestMethod]
    [DataRow(ResNetArchitecture.ResNet20, 19)]
    [DataRow(ResNetArchitecture.ResNet32, 31)]
    [DataRow(ResNetArchitecture.ResNet44, 43)]
    [DataRow(ResNetArchitecture.ResNet56, 55)]
    [DataRow(ResNetArchitecture.ResNet110, 109)]
    public void GhostSurgeryReplacesEveryBatchNormAndForwardUsesTheGhostLayers(ResNetArchitecture architecture, int convolutions)
    {
        const int BatchSize = 8;
        const int GhostBatchSize = 2;
        manual_seed(2);
        using var model = ResNetFactory.Create(architecture, numClasses: 10, inputChannels: 1);

        // One BatchNorm after every 3×3 convolution, plus one in each of the two projection shortcuts.
        Assert.AreEqual(convolutions + 2, model.ApplyGhostBatchNorm(GhostBatchSize));
        Assert.IsFalse(model.modules().OfType<BatchNorm2d>().Any(), "a plain BatchNorm2d is left");

        model.train();
        using (no_grad())
        {
            model.call(randn(BatchSize, 1, 8, 8));
        }

        var ghostLayers = model.modules().OfType<GhostBatchNorm2d>().ToList();
        Assert.HasCount(convolutions + 2, ghostLayers);
        foreach (var layer in ghostLayers)
        {
            Assert.AreEqual(BatchSize / GhostBatchSize, layer.num_batches_tracked!.item<long>(), $"{layer.GetName()} was not run on ghost batches");
        }
    }

    [TestMethod]
    public void GreyImageNetNetworkKeepsTheColourStateDictKeys()
    {
        using var colour = ResNetFactory.Create(ResNetArchitecture.ResNet18, numClasses: 10, inputChannels: 3);
        using var grey = ResNetFactory.Create(ResNetArchitecture.ResNet18, numClasses: 10, inputChannels: 1);
        var colourState = colour.state_dict();
        var greyState = grey.state_dict();

        CollectionAssert.AreEqual(colourState.Keys.ToList(), greyState.Keys.ToList());
        CollectionAssert.AreEqual(new long[] { 64, 1, 7, 7 }, greyState["conv1.weight"].shape);
        Assert.AreEqual(
            colourState["conv1.weight"].std().item<float>(),
            greyState["conv1.weight"].std().item<float>(),
            0.01f,
            "the grey stem is initialized as the colour stem");
    }

    [TestMethod]
    [DataRow(ResNetArchitecture.ResNet20)]
    [DataRow(ResNetArchitecture.ResNet18)]
    public void SameSeedGivesIdenticalWeights(ResNetArchitecture architecture)
    {
        using var first = CreateSeeded(architecture, seed: 11);
        using var second = CreateSeeded(architecture, seed: 11);
        using var other = CreateSeeded(architecture, seed: 12);

        foreach (var (name, weights) in first.state_dict())
        {
            Assert.IsTrue(weights.eq(second.state_dict()[name]).all().item<bool>(), $"{name} differs under the same seed");
        }

        Assert.IsFalse(first.state_dict()["conv1.weight"].eq(other.state_dict()["conv1.weight"]).all().item<bool>(), "another seed gives the same weights");
    }

    [TestMethod]
    public void InvalidArgumentsAreRejected()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ResNetFactory.Create(ResNetArchitecture.ResNet20, numClasses: 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ResNetFactory.Create(ResNetArchitecture.ResNet18, numClasses: 10, inputChannels: 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ResNetFactory.Create((ResNetArchitecture)99, numClasses: 10));
    }

    private static nn.Module<Tensor, Tensor> CreateSeeded(ResNetArchitecture architecture, int seed)
    {
        manual_seed(seed);
        return ResNetFactory.Create(architecture, numClasses: 10, inputChannels: 1);
    }
}
