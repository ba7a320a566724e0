using Ghost.ML.Torch;
using Ghost.ML.Torch.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests.Models;

[TestClass]
public sealed class CifarResNetTests
{
    [TestMethod]
    [DataRow(20, 272_474)]   // He et al.: 0.27M with zero-padding shortcuts; projections add 2,752
    [DataRow(56, 855_770)]   // He et al.: 0.85M
    public void ParameterCountMatchesThePaper(int depth, long expected)
    {
        using var model = new CifarResNet(depth, numClasses: 10);

        Assert.AreEqual(expected, model.parameters().Sum(parameter => parameter.numel()));
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(2)]
    [DataRow(19)]
    public void DepthOtherThanSixNPlusTwoIsRejected(int depth)
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new CifarResNet(depth, numClasses: 10));
    }

    [TestMethod]
    public void StateDictKeysFollowTorchVision()
    {
        using var model = new CifarResNet(20, numClasses: 10);
        var keys = model.state_dict().Keys.ToHashSet();

        foreach (var key in new[] { "conv1.weight", "bn1.running_mean", "layer1.2.bn2.weight", "layer2.0.downsample.0.weight", "layer3.0.downsample.1.num_batches_tracked", "fc.bias" })
        {
            Assert.Contains(key, keys);
        }

        Assert.IsFalse(keys.Any(key => key.StartsWith("layer1.0.downsample", StringComparison.Ordinal)), "the first stage keeps shape: identity shortcuts");
    }

    [TestMethod]
    public void ZeroInitResidualSurvivesGhostSurgery()
    {
        manual_seed(3);
        using var model = new CifarResNet(20, numClasses: 10, inputChannels: 1, zeroInitResidual: true);
        model.ApplyGhostBatchNorm(ghostBatchSize: 2);

        var normScales = model.named_parameters().Where(named => named.name.EndsWith("bn1.weight", StringComparison.Ordinal) || named.name.EndsWith("bn2.weight", StringComparison.Ordinal)).ToList();
        Assert.HasCount(19, normScales);
        foreach (var (name, scale) in normScales)
        {
            var expected = name.EndsWith("bn2.weight", StringComparison.Ordinal) ? 0.0 : 1.0;
            Assert.IsTrue(scale.eq(expected).all().item<bool>(), $"{name} should start at {expected}");
        }

        // With every residual branch silenced, the blocks of the first stage pass their (non-negative) input through.
        var layer1 = model.named_children().Single(child => child.name == "layer1").module;
        var input = rand(4, 16, 8, 8);
        using var noGrad = no_grad();
        TensorAssert.AreClose(input, ((nn.Module<Tensor, Tensor>)layer1).call(input), 0, "first stage output");
    }

    [TestMethod]
    public void BackwardReachesEveryParameterThroughGhostLayers()
    {
        manual_seed(5);
        using var model = new CifarResNet(20, numClasses: 10, inputChannels: 1);
        model.ApplyGhostBatchNorm(ghostBatchSize: 2);
        model.train();

        var logits = model.call(randn(4, 1, 16, 16));
        nn.functional.cross_entropy(logits, tensor(new long[] { 0, 3, 7, 9 })).backward();

        foreach (var (name, parameter) in model.named_parameters())
        {
            Assert.IsNotNull(parameter.grad, $"{name} has no gradient");
            TensorAssert.AllFinite(parameter.grad, name);
            Assert.IsTrue(parameter.grad.abs().sum().item<float>() > 0, $"{name} has a zero gradient");
        }
    }
}
