using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests;

/// <summary>The layer's tests through <see cref="GhostCpuKernels"/>, and what only the kernels promise.</summary>
[TestClass]
public sealed class GhostBatchNormCpuKernelTests : GhostBatchNormTests
{
    /// <inheritdoc/>
    protected override bool Portable => false;

    [TestMethod]
    public void ParallelKernelsGiveTheSerialResultBitForBit()
    {
        manual_seed(14);
        var input = randn(48, 40, 6, 7);
        var upstream = randn(input.shape);
        var serial = ForwardAndBackward(threads: 1);
        var parallel = ForwardAndBackward(threads: 4);
        string[] names = ["output", "input gradient", "weight gradient", "bias gradient", "running mean", "running variance"];
        for (var i = 0; i < names.Length; i++)
        {
            Assert.IsTrue(serial[i].equal(parallel[i]).all().item<bool>(), names[i]);
        }

        Tensor[] ForwardAndBackward(int threads)
        {
            var previous = get_num_threads();
            set_num_threads(threads);
            try
            {
                using var layer = Create(2, 40, ghostBatchSize: 5, dtype: ScalarType.Float32);
                layer.train();
                var x = input.clone().requires_grad_();
                var output = layer.forward(x);
                (output * upstream).sum().backward();
                return [output.detach(), x.grad!, layer.weight!.grad!.clone(), layer.bias!.grad!.clone(), layer.running_mean!.clone(), layer.running_var!.clone()];
            }
            finally
            {
                set_num_threads(previous);
            }
        }
    }
}
