using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests;

/// <summary>Tensor comparisons with a readable failure message.</summary>
internal static class TensorAssert
{
    public static void AreClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        CollectionAssert.AreEqual(expected.shape, actual.shape, $"{what}: shape");
        var difference = (expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs();
        var largest = difference.numel() == 0 ? 0 : difference.max().item<double>();
        var scale = Math.Max(1.0, expected.numel() == 0 ? 0 : expected.to_type(ScalarType.Float64).abs().max().item<double>());
        Assert.IsTrue(largest <= tolerance * scale, $"{what}: largest difference {largest:G4} exceeds {tolerance * scale:G4}");
    }

    public static void AllFinite(Tensor tensor, string what)
    {
        Assert.IsTrue(tensor.isfinite().all().item<bool>(), $"{what} has NaN or infinity");
    }
}
