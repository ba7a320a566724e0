using System.Runtime.CompilerServices;
using Ghost.ML.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Ghost.ML.Torch.Tests;

[TestClass]
public sealed class GhostBatchNormSurgeryTests
{
    /// <summary>A user module that keeps its layers in private fields, as TorchSharp code usually does.</summary>
    private sealed class CustomNet : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> conv = nn.Conv2d(2, 4, 3, padding: 1);
        private readonly nn.Module<Tensor, Tensor> norm = nn.BatchNorm2d(4);
        private readonly nn.Module<Tensor, Tensor> head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 6 * 6, 5), nn.BatchNorm1d(5));

        public CustomNet() : base(nameof(CustomNet)) => RegisterComponents();

        public override Tensor forward(Tensor input) => head.forward(F.relu(norm.forward(conv.forward(input))));
    }

    /// <summary>A module whose field is typed as the sealed BatchNorm2d, which cannot hold a ghost layer.</summary>
    private sealed class NarrowlyTypedNet : nn.Module<Tensor, Tensor>
    {
        private readonly BatchNorm2d first = nn.BatchNorm2d(3);
        private readonly nn.Module<Tensor, Tensor> second = nn.BatchNorm2d(3);

        public NarrowlyTypedNet() : base(nameof(NarrowlyTypedNet)) => RegisterComponents();

        public override Tensor forward(Tensor input) => second.forward(first.forward(input));
    }

    private sealed class ModuleListNet : nn.Module<Tensor, Tensor>
    {
        private readonly ModuleList<nn.Module<Tensor, Tensor>> layers = nn.ModuleList<nn.Module<Tensor, Tensor>>(
            nn.Linear(3, 6), nn.BatchNorm1d(6), nn.Linear(6, 2));

        public ModuleListNet() : base(nameof(ModuleListNet)) => RegisterComponents();

        public override Tensor forward(Tensor input) => layers.Aggregate(input, (x, layer) => layer.forward(x));
    }

    private sealed class ModuleDictNet : nn.Module<Tensor, Tensor>
    {
        private readonly ModuleDict<nn.Module<Tensor, Tensor>> layers = nn.ModuleDict<nn.Module<Tensor, Tensor>>(
            ("linear", nn.Linear(3, 6)), ("norm", nn.BatchNorm1d(6)));

        public ModuleDictNet() : base(nameof(ModuleDictNet)) => RegisterComponents();

        public override Tensor forward(Tensor input) => layers["norm"].forward(layers["linear"].forward(input));
    }

    private static List<BatchNorm> NormLayers(nn.Module model) =>
        model.named_modules().Select(named => named.module).OfType<BatchNorm>().ToList();

    /// <summary>
    /// A ghost layer counts one tracked batch per ghost batch, BatchNorm one per forward: after a training step
    /// the counters show which layers the forward pass really ran.
    /// </summary>
    private static void AssertForwardRunsGhostLayers(nn.Module<Tensor, Tensor> model, Tensor input, int expectedGhostBatches)
    {
        var layers = NormLayers(model);
        var before = layers.Select(layer => layer.num_batches_tracked!.to_type(ScalarType.Float64).item<double>()).ToList();
        model.train();
        using (no_grad())
        {
            model.forward(input);
        }

        for (var i = 0; i < layers.Count; i++)
        {
            var after = layers[i].num_batches_tracked!.to_type(ScalarType.Float64).item<double>();
            Assert.AreEqual(expectedGhostBatches, after - before[i], $"layer {i} ({layers[i].GetType().Name}) ran {after - before[i]} ghost batches");
        }
    }

    [TestMethod]
    public void ReplacesEveryBatchNormInTorchVisionResNet18()
    {
        manual_seed(7);
        using var model = torchvision.models.resnet18(num_classes: 4);
        var keys = model.state_dict().Keys.ToList();
        var plainCount = NormLayers(model).Count;

        var replaced = model.ApplyGhostBatchNorm(2);

        Assert.AreEqual(20, plainCount);
        Assert.AreEqual(plainCount, replaced);
        Assert.IsTrue(NormLayers(model).All(layer => layer is GhostBatchNorm2d { GhostBatchSize: 2 }));
        CollectionAssert.AreEqual(keys, model.state_dict().Keys.ToList(), "state_dict keys and order are unchanged");
        // ResNet's blocks read their layers from private readonly fields: batch 8 in ghost batches of 2 → 4 per layer.
        AssertForwardRunsGhostLayers(model, randn(8, 3, 32, 32), expectedGhostBatches: 4);
    }

    [TestMethod]
    public void ReplacesLayersInSequentialModuleListModuleDictAndCustomModules()
    {
        manual_seed(8);
        var sequential = nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2));
        var cases = new (nn.Module<Tensor, Tensor> Model, Tensor Input, int Layers)[]
        {
            (sequential, randn(12, 3), 1),
            (new ModuleListNet(), randn(12, 3), 1),
            (new ModuleDictNet(), randn(12, 3), 1),
            (new CustomNet(), randn(12, 2, 6, 6), 2),
        };
        foreach (var (model, input, layers) in cases)
        {
            Assert.AreEqual(layers, model.ApplyGhostBatchNorm(4), model.GetName());
            Assert.IsTrue(NormLayers(model).All(layer => layer is GhostBatchNorm), model.GetName());
            Assert.AreEqual(layers, model.parameters().Count(p => NormLayers(model).Any(n => ReferenceEquals(n.weight, p))));
            AssertForwardRunsGhostLayers(model, input, expectedGhostBatches: 3);
            model.Dispose();
        }
    }

    [TestMethod]
    public void OptimizerCreatedBeforeSurgeryTrainsTheGhostWeights()
    {
        manual_seed(9);
        using var model = new CustomNet();
        var optimizer = optim.SGD(model.parameters(), 0.5);
        model.ApplyGhostBatchNorm(4, optimizer);
        var ghost = NormLayers(model).OfType<GhostBatchNorm2d>().Single();
        var before = ghost.weight.detach().clone();

        model.train();
        optimizer.zero_grad();
        var loss = F.cross_entropy(model.forward(randn(12, 2, 6, 6)), randint(0, 5, 12));
        loss.backward();
        optimizer.step();

        Assert.IsFalse(before.allclose(ghost.weight), "the optimizer did not move the ghost layer's weight");
        optimizer.Dispose();
    }

    [TestMethod]
    public void EvaluationOutputsAreUnchangedBySurgeryAndRemoval()
    {
        manual_seed(10);
        using var model = torchvision.models.resnet18(num_classes: 3);
        model.train();
        using (no_grad())
        {
            model.forward(randn(6, 3, 32, 32) * 2 + 1);   // non-trivial running statistics
        }

        model.eval();
        var input = randn(3, 3, 32, 32);
        var expected = model.forward(input).detach();

        model.ApplyGhostBatchNorm(2);
        Assert.IsFalse(model.training, "surgery keeps eval mode");
        TensorAssert.AreClose(expected, model.forward(input), 1e-6, "eval output after surgery");

        Assert.AreEqual(20, model.RemoveGhostBatchNorm());
        Assert.IsTrue(NormLayers(model).All(layer => layer is BatchNorm2d));
        TensorAssert.AreClose(expected, model.forward(input), 1e-6, "eval output after removal");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (nn.Module<Tensor, Tensor> Model, WeakReference OldLayer) ModelWithGhostLayerAndItsOldLayer()
    {
        var oldLayer = nn.BatchNorm1d(4);
        var model = nn.Sequential(nn.Linear(3, 4), oldLayer);
        model.ApplyGhostBatchNorm(2);
        return (model, new WeakReference(oldLayer));
    }

    [TestMethod]
    public void ReplacedLayersSurviveGarbageCollectionOfTheOldOnes()
    {
        manual_seed(11);
        var (model, oldLayer) = ModelWithGhostLayerAndItsOldLayer();
        for (var i = 0; i < 3 && oldLayer.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.IsFalse(oldLayer.IsAlive, "the old layer was collected and finalized");
        model.train();
        var output = model.forward(randn(8, 3));
        TensorAssert.AllFinite(output, "output after the old layer was finalized");
        TensorAssert.AllFinite(NormLayers(model).Single().running_var!, "running_var");
        model.Dispose();
    }

    [TestMethod]
    public void ApplyingAgainSetsTheGhostBatchSize()
    {
        using var model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4));
        Assert.AreEqual(1, model.ApplyGhostBatchNorm(8));
        Assert.AreEqual(0, model.ApplyGhostBatchNorm(2));
        Assert.AreEqual(2, ((GhostBatchNorm)NormLayers(model).Single()).GhostBatchSize);
    }

    [TestMethod]
    public void KeepsHyperParametersAndSharesTensors()
    {
        using var model = nn.Sequential(nn.BatchNorm3d(5, eps: 1e-3, momentum: 0.3, dtype: ScalarType.Float64));
        var original = (BatchNorm3d)NormLayers(model).Single();
        var weight = original.weight;
        var runningMean = original.running_mean;
        model.ApplyGhostBatchNorm(4);
        var ghost = (GhostBatchNorm3d)NormLayers(model).Single();
        Assert.AreEqual(1e-3, ghost.eps);
        Assert.AreEqual(0.3, ghost.momentum);
        Assert.AreSame(weight, ghost.weight);
        Assert.AreSame(runningMean, ghost.running_mean);
        Assert.AreEqual(ScalarType.Float64, ghost.running_var!.dtype);
    }

    [TestMethod]
    public void ANarrowlyTypedFieldFailsBeforeAnythingChanges()
    {
        using var model = new NarrowlyTypedNet();
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => model.ApplyGhostBatchNorm(2));
        StringAssert.Contains(error.Message, "first");
        Assert.IsTrue(NormLayers(model).All(layer => layer is BatchNorm2d), "no layer was replaced");
    }

    [TestMethod]
    public void BadArgumentsAreRejected()
    {
        using var model = nn.Sequential(nn.BatchNorm1d(4));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.ApplyGhostBatchNorm(0));
        Assert.ThrowsExactly<ArgumentNullException>(() => ((nn.Module)null!).ApplyGhostBatchNorm(2));
        using var layer = nn.BatchNorm2d(3);
        Assert.ThrowsExactly<ArgumentException>(() => layer.ApplyGhostBatchNorm(2));
    }
}
