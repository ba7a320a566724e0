using Ghost.ML.Torch;
using Ghost.ML.Torch.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests.Models;

[TestClass]
public sealed class ImageNetResNetTests
{
    [TestMethod]
    [DataRow(18)]
    [DataRow(34)]
    [DataRow(50)]
    public void TorchVisionStateDictLoadsKeyForKeyAndGivesTheSameLogits(int depth)
    {
        manual_seed(depth);
        using var reference = TorchVisionResNet(depth, numClasses: 5);
        using var ours = new ImageNetResNet(depth, numClasses: 5);
        reference.train();
        using (no_grad())
        {
            reference.call(randn(4, 3, 64, 64) * 2 + 1);   // running statistics away from their start
        }

        var expectedState = reference.state_dict();
        var ourState = ours.state_dict();
        CollectionAssert.AreEqual(expectedState.Keys.ToList(), ourState.Keys.ToList(), "state_dict keys and order");
        foreach (var (key, tensor) in expectedState)
        {
            CollectionAssert.AreEqual(tensor.shape, ourState[key].shape, $"{key}: shape");
        }

        var (missing, unexpected) = ours.load_state_dict(expectedState);
        Assert.IsEmpty(missing);
        Assert.IsEmpty(unexpected);

        reference.eval();
        ours.eval();
        using var noGrad = no_grad();
        var input = randn(2, 3, 64, 64);
        TensorAssert.AreClose(reference.call(input), ours.call(input), 1e-5, "logits");
    }

    [TestMethod]
    public void InitializationFollowsTorchVision()
    {
        manual_seed(4);
        using var reference = TorchVisionResNet(18, numClasses: 10);
        using var ours = new ImageNetResNet(18, numClasses: 10);
        var expectedState = reference.state_dict();

        // The classifier keeps TorchSharp's Linear default, the same draw in both: too few values to compare spreads.
        foreach (var (key, tensor) in ours.state_dict().Where(named => named.Value.is_floating_point() && !named.Key.StartsWith("fc.", StringComparison.Ordinal)))
        {
            var expected = expectedState[key];
            // Kaiming-normal fan-out weights have a spread set by the shape; BatchNorm starts at exact constants.
            Assert.AreEqual(expected.mean().item<float>(), tensor.mean().item<float>(), 0.01f, $"{key}: mean");
            Assert.AreEqual(expected.std().item<float>(), tensor.std().item<float>(), 0.1f * Math.Max(expected.std().item<float>(), 1e-3f), $"{key}: spread");
        }
    }

    [TestMethod]
    public void GhostSurgeryReplacesEveryBatchNormAndForwardUsesTheGhostLayers()
    {
        const int BatchSize = 6;
        const int GhostBatchSize = 3;
        manual_seed(6);
        using var model = new ImageNetResNet(18, numClasses: 4, inputChannels: 1);

        Assert.AreEqual(20, model.ApplyGhostBatchNorm(GhostBatchSize));
        Assert.IsFalse(model.modules().OfType<BatchNorm2d>().Any(), "a plain BatchNorm2d is left");

        model.train();
        using (no_grad())
        {
            model.call(randn(BatchSize, 1, 64, 64));
        }

        foreach (var layer in model.modules().OfType<GhostBatchNorm2d>())
        {
            Assert.AreEqual(BatchSize / GhostBatchSize, layer.num_batches_tracked!.item<long>(), $"{layer.GetName()} was not run on ghost batches");
        }
    }

    [TestMethod]
    public void ZeroInitResidualSilencesTheLastNormOfEveryBlock()
    {
        using var model = new ImageNetResNet(18, numClasses: 4, zeroInitResidual: true);

        foreach (var (name, scale) in model.named_parameters().Where(named => named.name.StartsWith("layer", StringComparison.Ordinal) && named.name.EndsWith(".weight", StringComparison.Ordinal) && named.name.Contains(".bn", StringComparison.Ordinal)))
        {
            var expected = name.EndsWith("bn2.weight", StringComparison.Ordinal) ? 0.0 : 1.0;
            Assert.IsTrue(scale.eq(expected).all().item<bool>(), $"{name} should start at {expected}");
        }
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(20)]
    [DataRow(101)]
    public void DepthOtherThan18Or34Or50IsRejected(int depth)
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageNetResNet(depth, numClasses: 10));
    }

    private static ResNet TorchVisionResNet(int depth, int numClasses) => depth switch
    {
        18 => torchvision.models.resnet18(num_classes: numClasses),
        34 => torchvision.models.resnet34(num_classes: numClasses),
        _ => torchvision.models.resnet50(num_classes: numClasses),
    };
}
