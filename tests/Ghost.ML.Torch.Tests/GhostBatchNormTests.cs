using Ghost.ML.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests;

/// <summary>The layer's tests, run once through the CPU kernels and once through the portable path (see the subclasses).</summary>
public abstract class GhostBatchNormTests
{
    private const double Tolerance = 1e-10;

    private bool _previousForcePortable;

    /// <summary>Whether these tests force <see cref="GhostPortableKernels"/> on the CPU.</summary>
    protected abstract bool Portable { get; }

    [TestInitialize]
    public void ChooseKernels()
    {
        _previousForcePortable = GhostKernelChoice.ForcePortable;
        GhostKernelChoice.ForcePortable = Portable;
    }

    [TestCleanup]
    public void RestoreKernels() => GhostKernelChoice.ForcePortable = _previousForcePortable;

    protected static GhostBatchNorm Create(int rank, long channels, int ghostBatchSize, double? momentum = 0.1,
        bool affine = true, bool trackRunningStats = true, ScalarType dtype = ScalarType.Float64) => rank switch
    {
        1 => new GhostBatchNorm1d(channels, ghostBatchSize, 1e-5, momentum, affine, trackRunningStats, dtype: dtype),
        2 => new GhostBatchNorm2d(channels, ghostBatchSize, 1e-5, momentum, affine, trackRunningStats, dtype: dtype),
        _ => new GhostBatchNorm3d(channels, ghostBatchSize, 1e-5, momentum, affine, trackRunningStats, dtype: dtype),
    };

    private static long[] Shape(int layerRank, long batch, long channels, bool sequence) => layerRank switch
    {
        1 => sequence ? [batch, channels, 5] : [batch, channels],
        2 => [batch, channels, 3, 4],
        _ => [batch, channels, 2, 3, 2],
    };

    /// <summary>Non-trivial affine parameters and running statistics, so every term of the computation matters.</summary>
    private static void Randomize(GhostBatchNorm layer)
    {
        using var noGrad = no_grad();
        var c = layer.num_features;
        layer.weight?.copy_(rand(c, dtype: layer.weight.dtype) + 0.5);
        layer.bias?.copy_(randn(c, dtype: layer.bias.dtype));
        layer.running_mean?.copy_(randn(c, dtype: layer.running_mean.dtype));
        layer.running_var?.copy_(rand(c, dtype: layer.running_var.dtype) + 0.5);
        layer.num_batches_tracked?.fill_(3);
    }

    [TestMethod]
    [DataRow(1, 12, 4, false, 0.1)]
    [DataRow(1, 13, 4, false, 0.1)]   // one-sample tail on [N, C]: folded into the previous ghost batch
    [DataRow(1, 10, 3, true, 0.1)]    // one-sample tail with a length dimension: a ghost batch of its own
    [DataRow(1, 9, 1, false, 0.1)]    // G = 1 on [N, C]: pairs, the last one a triple
    [DataRow(1, 6, 8, true, 0.1)]     // G >= N: plain BatchNorm
    [DataRow(2, 16, 4, false, 0.1)]
    [DataRow(2, 10, 4, false, 0.3)]
    [DataRow(2, 7, 1, false, 0.1)]
    [DataRow(2, 8, 8, false, 0.1)]
    [DataRow(2, 11, 5, false, null)]  // cumulative average
    [DataRow(3, 9, 2, false, 0.1)]
    [DataRow(3, 6, 3, false, null)]
    [DataRow(1, 70, 32, false, 0.1)]  // Composer's chunks: 24 / 24 / 22
    [DataRow(1, 33, 32, true, 0.1)]   // 17 / 16: ceil(N / k) far below G
    [DataRow(2, 13, 4, false, 0.1)]   // 4 / 4 / 4 / 1: a one-sample last chunk of 12 values
    [DataRow(2, 21, 8, false, null)]  // 7 / 7 / 7
    [DataRow(1, 10, 3, false, 0.2)]   // 3 / 3 / 3 / 1 on [N, C]: 3 / 3 / 4
    public void TrainingMatchesPerGhostBatchReference(int rank, int batch, int ghostBatchSize, bool sequence, double? momentum) =>
        AssertTrainingMatchesReference(Shape(rank, batch, 3, sequence), ghostBatchSize, momentum, ScalarType.Float64, 1e-9);

    /// <summary>The hand-written backward in single precision, with spatial sizes large enough for the batched row products.</summary>
    [TestMethod]
    [DataRow(2, 20, 8, false)]  // ragged: two ghost batches of 8 and a tail of 4
    [DataRow(2, 16, 4, false)]
    [DataRow(1, 10, 4, false)]
    [DataRow(1, 12, 5, true)]
    [DataRow(3, 9, 4, false)]
    public void TrainingMatchesPerGhostBatchReferenceInFloat32(int rank, int batch, int ghostBatchSize, bool sequence) =>
        AssertTrainingMatchesReference(
            Shape(rank, batch, 3, sequence).Select((size, dim) => dim < 2 ? size : size * 4).ToArray(),
            ghostBatchSize, 0.1, ScalarType.Float32, 1e-4);

    /// <summary>
    /// Shapes that reach every loop of the CPU kernels (channels vectorised with a scalar remainder, several channel
    /// blocks, rows vectorised with a scalar remainder, one channel per work item).
    /// </summary>
    [TestMethod]
    [DataRow("20x37", 8, ScalarType.Float32)]
    [DataRow("20x37", 8, ScalarType.Float64)]
    [DataRow("6x1100", 4, ScalarType.Float64)]
    [DataRow("12x5x33", 5, ScalarType.Float32)]
    [DataRow("12x5x33", 5, ScalarType.Float64)]
    [DataRow("9x2x3x40", 4, ScalarType.Float32)]
    [DataRow("10x3x32x32", 4, ScalarType.Float32)]
    [DataRow("7x4x2x3x5", 2, ScalarType.Float64)]
    public void EveryLoopMatchesPerGhostBatchReference(string shape, int ghostBatchSize, ScalarType dtype) =>
        AssertTrainingMatchesReference(shape.Split('x').Select(long.Parse).ToArray(), ghostBatchSize, 0.1, dtype,
            dtype == ScalarType.Float32 ? 1e-4 : 1e-9);

    private static void AssertTrainingMatchesReference(long[] shape, int ghostBatchSize, double? momentum, ScalarType dtype,
        double tolerance)
    {
        manual_seed(shape.Aggregate(17L, (hash, size) => hash * 31 + size) + ghostBatchSize);
        var rank = shape.Length == 5 ? 3 : shape.Length == 4 ? 2 : 1;
        using var layer = Create(rank, shape[1], ghostBatchSize, momentum, dtype: dtype);
        Randomize(layer);
        var runningMean = layer.running_mean!.clone();
        var runningVar = layer.running_var!.clone();
        var tracked = layer.num_batches_tracked!.clone();
        var referenceWeight = layer.weight.detach().clone().requires_grad_();
        var referenceBias = layer.bias!.detach().clone().requires_grad_();

        var input = randn(shape, dtype: dtype) * 2 + 1;
        var x = input.clone().requires_grad_();
        var referenceX = input.clone().requires_grad_();
        var upstream = randn(input.shape, dtype: dtype);

        layer.train();
        var output = layer.forward(x);
        (output * upstream).sum().backward();
        var expected = ReferenceGhostBatchNorm.Forward(referenceX, ghostBatchSize, runningMean, runningVar, tracked,
            referenceWeight, referenceBias, momentum, 1e-5);
        (expected * upstream).sum().backward();

        TensorAssert.AreClose(expected, output, tolerance / 10, "output");
        TensorAssert.AreClose(referenceX.grad!, x.grad!, tolerance, "input gradient");
        TensorAssert.AreClose(referenceWeight.grad!, layer.weight.grad!, tolerance, "weight gradient");
        TensorAssert.AreClose(referenceBias.grad!, layer.bias!.grad!, tolerance, "bias gradient");
        TensorAssert.AreClose(runningMean, layer.running_mean!, tolerance / 10, "running_mean");
        TensorAssert.AreClose(runningVar, layer.running_var!, tolerance / 10, "running_var");
        TensorAssert.AreClose(tracked, layer.num_batches_tracked!, 0, "num_batches_tracked");
    }

    [TestMethod]
    public void LargeMeanRelativeToSpreadKeepsTheVarianceExact()
    {
        manual_seed(7);
        // Mean 100, spread 1: E[x²] − E[x]² in single precision would lose about three digits of the variance.
        AssertFloat32MatchesFloat64Reference(randn(12, 3, 5, 5) + 100, ghostBatchSize: 4);
    }

    [TestMethod]
    public void OutlyingFirstValueKeepsTheVarianceExact()
    {
        manual_seed(8);
        // The kernels sum around each pair's first value; an outlier there (0 among values near 1000) makes the
        // one-pass variance lose most of its digits in single precision, so those pairs must be summed again.
        var input = randn(4, 2, 64, 64) + 1000;
        input[0, 0, 0, 0] = tensor(0f);
        input[2, 1, 0, 0] = tensor(0f);
        AssertFloat32MatchesFloat64Reference(input, ghostBatchSize: 2);
    }

    [TestMethod]
    public void OutlyingFirstSampleOfOneValueRowsKeepsTheVarianceExact()
    {
        manual_seed(10);
        // [N, C] input, 64 samples per ghost batch: the first sample at 0 among values near 1000 puts the mean far
        // enough from the kernels' shift that the pairs are summed again.
        var input = randn(128, 8) + 1000;
        input[0] = zeros(8);
        input[64] = zeros(8);
        AssertFloat32MatchesFloat64Reference(input, ghostBatchSize: 64);
    }

    [TestMethod]
    public void MillionValueRowsKeepSinglePrecision()
    {
        manual_seed(11);
        // Rows of 512 × 512 values: float32 lane sums over a whole row would drift far beyond float32's precision.
        AssertFloat32MatchesFloat64Reference(randn(4, 2, 512, 512) * 3 + 5, ghostBatchSize: 2, tolerance: 2e-6);
    }

    [TestMethod]
    public void LongGhostBatchesOfOneValueRowsKeepSinglePrecision()
    {
        manual_seed(12);
        // [N, C] ghost batches of 600 samples: the kernels' sums across channels restart in float32 every 256 samples
        // and add up in double; 21 channels also leave a remainder after the vectors.
        AssertFloat32MatchesFloat64Reference(randn(1500, 21) * 3 + 5, ghostBatchSize: 600, tolerance: 2e-5);
    }

    /// <summary>Float32 output and input gradient (affine off) against the per-ghost-batch reference in float64.</summary>
    private static void AssertFloat32MatchesFloat64Reference(Tensor input, int ghostBatchSize, double tolerance = 1e-4)
    {
        using var layer = Create(input.ndim == 2 ? 1 : 2, input.shape[1], ghostBatchSize, affine: false, dtype: ScalarType.Float32);
        layer.train();
        var upstream = randn(input.shape);
        var referenceX = input.to_type(ScalarType.Float64).requires_grad_();
        var expected = ReferenceGhostBatchNorm.Forward(referenceX, ghostBatchSize, null, null, null, null, null, 0.1, 1e-5);
        (expected * upstream.to_type(ScalarType.Float64)).sum().backward();
        var x = input.clone().requires_grad_();
        var output = layer.forward(x);
        (output * upstream).sum().backward();
        TensorAssert.AreClose(expected, output, tolerance, "output");
        TensorAssert.AreClose(referenceX.grad!, x.grad!, tolerance, "input gradient");
    }

    [TestMethod]
    public void NonContiguousInputMatchesReference()
    {
        manual_seed(12);
        using var layer = Create(2, 5, ghostBatchSize: 3);
        Randomize(layer);
        layer.train();
        // Channels-last storage: a permuted view, not contiguous in [N, C, H, W] order.
        var input = randn(new long[] { 7, 4, 3, 5 }, dtype: ScalarType.Float64).permute(0, 3, 1, 2);
        Assert.IsFalse(input.is_contiguous());
        var x = input.detach().requires_grad_();
        var referenceX = input.detach().clone().requires_grad_();
        var upstream = randn(input.shape, dtype: ScalarType.Float64);
        (layer.forward(x) * upstream).sum().backward();
        var expected = ReferenceGhostBatchNorm.Forward(referenceX, 3, null, null, null, layer.weight.detach(),
            layer.bias!.detach(), 0.1, 1e-5);
        (expected * upstream).sum().backward();
        TensorAssert.AreClose(expected, layer.forward(input.detach()), 1e-9, "output");
        TensorAssert.AreClose(referenceX.grad!, x.grad!, 1e-9, "input gradient");
    }

    [TestMethod]
    public void SumOfOutputsHasNoInputGradient()
    {
        manual_seed(13);
        using var layer = Create(2, 4, ghostBatchSize: 2);
        Randomize(layer);
        layer.train();
        var x = randn(new long[] { 6, 4, 3, 3 }, dtype: ScalarType.Float64).requires_grad_();
        // The upstream gradient of a sum is one broadcast value (stride 0); each ghost batch's normalised output sums
        // to a constant, so the input gradient vanishes.
        layer.forward(x).sum().backward();
        TensorAssert.AreClose(zeros_like(x), x.grad!, 1e-9, "input gradient");
    }

    [TestMethod]
    public void KeptSavedTensorsAllowASecondBackwardThroughTheSameGraph()
    {
        manual_seed(9);
        using var layer = Create(2, 3, ghostBatchSize: 4);
        layer.KeepSavedTensorsAfterBackward = true;
        layer.train();
        var x = randn(8, 3, 2, 2, dtype: ScalarType.Float64).requires_grad_();
        var loss = (layer.forward(x) * randn(8, 3, 2, 2, dtype: ScalarType.Float64)).sum();
        loss.backward(retain_graph: true);
        var once = x.grad!.clone();
        loss.backward();
        TensorAssert.AreClose(once * 2, x.grad!, 1e-12, "input gradient after two backward passes");
    }

    [TestMethod]
    public void EachGhostBatchIsNormalizedOnItsOwn()
    {
        manual_seed(1);
        using var layer = new GhostBatchNorm2d(4, ghostBatchSize: 4, eps: 0, affine: false, dtype: ScalarType.Float64);
        layer.train();
        // Ghost batches drawn from very different distributions: each must still come out with mean 0, variance 1.
        var input = cat([randn(4, 4, 3, 3, dtype: ScalarType.Float64) * 5 + 10, randn(4, 4, 3, 3, dtype: ScalarType.Float64) * 0.1 - 3], 0);
        var output = layer.forward(input);
        foreach (var ghost in output.split(4, 0))
        {
            var (variance, mean) = ghost.var_mean(new long[] { 0, 2, 3 }, unbiased: false);
            TensorAssert.AreClose(zeros_like(mean), mean, 1e-9, "ghost mean");
            TensorAssert.AreClose(ones_like(variance), variance, 1e-9, "ghost variance");
        }
    }

    [TestMethod]
    public void BatchNoLargerThanGhostBatchSizeIsPlainBatchNorm()
    {
        manual_seed(2);
        using var ghost = Create(2, 3, ghostBatchSize: 16);
        using var plain = nn.BatchNorm2d(3, dtype: ScalarType.Float64);
        var input = randn(16, 3, 4, 4, dtype: ScalarType.Float64);
        ghost.train();
        plain.train();
        TensorAssert.AreClose(plain.forward(input), ghost.forward(input), Tolerance, "output");
        TensorAssert.AreClose(plain.running_var!, ghost.running_var!, Tolerance, "running_var");
    }

    [TestMethod]
    public void EvaluationIsPlainBatchNormForAnyBatchSizeIncludingOne()
    {
        manual_seed(3);
        using var ghost = Create(1, 5, ghostBatchSize: 4);
        Randomize(ghost);
        using var plain = nn.BatchNorm1d(5, dtype: ScalarType.Float64);
        plain.load_state_dict(ghost.state_dict());
        ghost.eval();
        plain.eval();
        foreach (var batch in new[] { 1, 3, 9 })
        {
            var input = randn(batch, 5, dtype: ScalarType.Float64);
            TensorAssert.AreClose(plain.forward(input), ghost.forward(input), Tolerance, $"eval output at batch {batch}");
        }
    }

    [TestMethod]
    public void OneSampleTailNeverProducesNaN()
    {
        manual_seed(4);
        using var layer = Create(1, 6, ghostBatchSize: 8, dtype: ScalarType.Float32);
        layer.train();
        var output = layer.forward(randn(17, 6));
        TensorAssert.AllFinite(output, "output");
        TensorAssert.AllFinite(layer.running_mean!, "running_mean");
        TensorAssert.AllFinite(layer.running_var!, "running_var");
    }

    [TestMethod]
    public void WithoutAffineOrRunningStatsMatchesReference()
    {
        manual_seed(5);
        using var layer = Create(2, 3, ghostBatchSize: 3, affine: false, trackRunningStats: false);
        layer.train();
        var input = randn(10, 3, 2, 2, dtype: ScalarType.Float64);
        var x = input.clone().requires_grad_();
        var referenceX = input.clone().requires_grad_();
        var upstream = randn(input.shape, dtype: ScalarType.Float64);
        var output = layer.forward(x);
        var expected = ReferenceGhostBatchNorm.Forward(referenceX, 3, null, null, null, null, null, 0.1, 1e-5);
        (output * upstream).sum().backward();
        (expected * upstream).sum().backward();
        TensorAssert.AreClose(expected, output, Tolerance, "output");
        TensorAssert.AreClose(referenceX.grad!, x.grad!, 1e-9, "input gradient");
        Assert.IsNull(layer.running_mean);
    }

    [TestMethod]
    [DataRow(ScalarType.Float16)]
    [DataRow(ScalarType.BFloat16)]
    public void HalfPrecisionInputUsesFloat32Moments(ScalarType half)
    {
        manual_seed(6);
        using var layer = Create(2, 3, ghostBatchSize: 4, dtype: ScalarType.Float32);
        using var reference = Create(2, 3, ghostBatchSize: 4, dtype: ScalarType.Float32);
        layer.train();
        reference.train();
        // A large offset: moments taken in 16-bit arithmetic would lose the variance entirely.
        var input = (randn(10, 3, 4, 4) + 300).to_type(half);
        var upstream = randn(input.shape);
        var x = input.detach().requires_grad_();
        var output = layer.forward(x);
        (output.to_type(ScalarType.Float32) * upstream).sum().backward();
        var referenceX = input.to_type(ScalarType.Float32).requires_grad_();
        var expected = reference.forward(referenceX);
        (expected * upstream).sum().backward();
        Assert.AreEqual(half, output.dtype);
        Assert.AreEqual(half, x.grad!.dtype);
        var tolerance = half == ScalarType.BFloat16 ? 2e-2 : 4e-3;
        TensorAssert.AreClose(expected, output.to_type(ScalarType.Float32), tolerance, "output");
        TensorAssert.AreClose(referenceX.grad!, x.grad!.to_type(ScalarType.Float32), tolerance * 10, "input gradient");
        TensorAssert.AreClose(reference.weight!.grad!, layer.weight!.grad!, tolerance * 10, "weight gradient");
        TensorAssert.AreClose(reference.running_var!, layer.running_var!, 1e-5, "running_var");
    }

    [TestMethod]
    public void InPlaceReluAfterTheLayerTrains()
    {
        manual_seed(15);
        using var layer = Create(2, 4, ghostBatchSize: 3);
        Randomize(layer);
        layer.train();
        var input = randn(new long[] { 8, 4, 3, 3 }, dtype: ScalarType.Float64);
        var x = input.clone().requires_grad_();
        var referenceX = input.clone().requires_grad_();
        var upstream = randn(input.shape, dtype: ScalarType.Float64);
        // TorchVision's networks follow BatchNorm with ReLU(inplace: true).
        (nn.functional.relu(layer.forward(x), inplace: true) * upstream).sum().backward();
        var expected = ReferenceGhostBatchNorm.Forward(referenceX, 3, null, null, null, layer.weight.detach(),
            layer.bias!.detach(), 0.1, 1e-5);
        (nn.functional.relu(expected) * upstream).sum().backward();
        TensorAssert.AreClose(referenceX.grad!, x.grad!, 1e-9, "input gradient");
    }

    [TestMethod]
    [DataRow(9, false)]   // ghost batches 3 / 3 / 3
    [DataRow(10, true)]   // 3 / 3 / 3 / 1 on rows of several values; with KeepSavedTensorsAfterBackward
    public void SecondOrderGradientsMatchReference(int batch, bool keepSavedTensors)
    {
        manual_seed(16);
        using var layer = Create(1, 3, ghostBatchSize: 3);
        layer.KeepSavedTensorsAfterBackward = keepSavedTensors;
        Randomize(layer);
        layer.train();
        var input = randn(new long[] { batch, 3, 2 }, dtype: ScalarType.Float64);
        var upstream = randn(input.shape, dtype: ScalarType.Float64);
        var x = input.clone().requires_grad_();
        var referenceX = input.clone().requires_grad_();
        var referenceWeight = layer.weight.detach().clone().requires_grad_();

        // A gradient penalty: the loss's gradient depends on the output, so the second backward runs the layer's
        // backward again as well as differentiating through it.
        var output = layer.forward(x);
        var gradient = autograd.grad([(output * output * upstream).sum()], [x], retain_graph: true, create_graph: true)[0];
        (gradient * gradient).sum().backward();
        var expected = ReferenceGhostBatchNorm.Forward(referenceX, 3, null, null, null, referenceWeight,
            layer.bias!.detach(), 0.1, 1e-5);
        var referenceGradient = autograd.grad([(expected * expected * upstream).sum()], [referenceX], retain_graph: true, create_graph: true)[0];
        (referenceGradient * referenceGradient).sum().backward();

        TensorAssert.AreClose(referenceGradient, gradient, 1e-9, "first-order input gradient");
        TensorAssert.AreClose(referenceX.grad!, x.grad!, 1e-8, "second-order input gradient");
        TensorAssert.AreClose(referenceWeight.grad!, layer.weight.grad!, 1e-8, "second-order weight gradient");
    }

    [TestMethod]
    public void TorchVisionResNet18TrainingStepAfterSurgeryMatchesTheOtherPath()
    {
        manual_seed(17);
        // Double precision: in float32 the paths' rounding, amplified by ghost batches of 3 values per channel in the
        // last stage, moves the loss by about 1e-4 and would hide a real difference.
        using var model = torchvision.models.resnet18(num_classes: 3).to(ScalarType.Float64);
        model.ApplyGhostBatchNorm(ghostBatchSize: 3);
        var initial = Snapshot(model);
        var input = randn(new long[] { 6, 3, 16, 16 }, dtype: ScalarType.Float64);
        var target = tensor(new long[] { 0, 1, 2, 0, 1, 2 });

        // ResNet's blocks apply ReLU(inplace: true) to the ghost layers' outputs.
        var loss = TrainingStep(model, input, target);
        var trained = Snapshot(model);
        model.load_state_dict(initial);
        GhostKernelChoice.ForcePortable = !Portable;
        var otherLoss = TrainingStep(model, input, target);
        GhostKernelChoice.ForcePortable = Portable;

        Assert.IsTrue(double.IsFinite(loss));
        Assert.AreEqual(otherLoss, loss, 1e-10, "loss on the other path");
        foreach (var (name, value) in model.state_dict())
        {
            TensorAssert.AreClose(value, trained[name], 1e-10, $"{name} after one SGD step");
        }

        static Dictionary<string, Tensor> Snapshot(nn.Module model) =>
            model.state_dict().ToDictionary(pair => pair.Key, pair => pair.Value.detach().clone());

        static double TrainingStep(nn.Module<Tensor, Tensor> network, Tensor input, Tensor target)
        {
            network.train();
            using var optimizer = optim.SGD(network.parameters(), learningRate: 0.1);
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(network.call(input), target);
            loss.backward();
            optimizer.step();
            return loss.item<double>();
        }
    }

    [TestMethod]
    public void StateDictKeysMatchBatchNorm()
    {
        using var ghost = new GhostBatchNorm2d(8, 4);
        using var plain = nn.BatchNorm2d(8);
        CollectionAssert.AreEqual(plain.state_dict().Keys.ToList(), ghost.state_dict().Keys.ToList());
        ghost.load_state_dict(plain.state_dict());
        plain.load_state_dict(ghost.state_dict());
    }

    [TestMethod]
    public void WrongRankOrChannelCountIsRejectedWithTheExpectedShape()
    {
        using var layer = new GhostBatchNorm2d(8, 4);
        var wrongRank = Assert.ThrowsExactly<ArgumentException>(() => layer.forward(randn(4, 8, 3)));
        StringAssert.Contains(wrongRank.Message, "[N, 8, H, W]");
        var wrongChannels = Assert.ThrowsExactly<ArgumentException>(() => layer.forward(randn(4, 6, 3, 3)));
        StringAssert.Contains(wrongChannels.Message, "[4, 6, 3, 3]");
        using var layer1d = new GhostBatchNorm1d(8, 4);
        Assert.ThrowsExactly<ArgumentException>(() => layer1d.forward(randn(4, 8, 3, 3)));
        using var layer3d = new GhostBatchNorm3d(8, 4);
        Assert.ThrowsExactly<ArgumentException>(() => layer3d.forward(randn(4, 8, 3, 3)));
    }

    [TestMethod]
    public void SingleValuePerChannelInTrainingIsRejectedLikePyTorch()
    {
        using var layer = new GhostBatchNorm1d(8, 4);
        layer.train();
        var error = Assert.ThrowsExactly<ArgumentException>(() => layer.forward(randn(1, 8)));
        StringAssert.Contains(error.Message, "Expected more than 1 value per channel when training");
    }

    [TestMethod]
    public void NonPositiveGhostBatchSizeIsRejected()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new GhostBatchNorm2d(8, 0));
        using var layer = new GhostBatchNorm2d(8, 4);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => layer.GhostBatchSize = -1);
        Assert.AreEqual(4, layer.GhostBatchSize);
    }

    [TestMethod]
    public void IsATorchSharpBatchNorm()
    {
        using var layer = new GhostBatchNorm3d(2, 4);
        Assert.IsInstanceOfType<BatchNorm>(layer);
        Assert.AreEqual("GhostBatchNorm3d", layer.GetName());
    }
}
