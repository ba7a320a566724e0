using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests;

[TestClass]
public sealed class GhostKernelChoiceTests
{
    [TestMethod]
    [DataRow("1", true)]
    [DataRow("0", false)]
    [DataRow("", false)]
    [DataRow(null, false)]
    public void TheEnvironmentVariableForcesThePortablePath(string? value, bool forced)
    {
        var previous = Environment.GetEnvironmentVariable(GhostKernelChoice.PortableKernelsVariable);
        Environment.SetEnvironmentVariable(GhostKernelChoice.PortableKernelsVariable, value);
        try
        {
            Assert.AreEqual(forced, GhostKernelChoice.PortableForcedByEnvironment());
        }
        finally
        {
            Environment.SetEnvironmentVariable(GhostKernelChoice.PortableKernelsVariable, previous);
        }
    }

    [TestMethod]
    public void FloatCpuRowsTakeTheKernelsUnlessThePortablePathIsForced()
    {
        var previous = GhostKernelChoice.ForcePortable;
        try
        {
            GhostKernelChoice.ForcePortable = false;
            Assert.IsTrue(GhostKernelChoice.UsesCpuKernels(zeros(4, 2, 3)));
            Assert.IsTrue(GhostKernelChoice.UsesCpuKernels(zeros(4, 2, 3, dtype: ScalarType.Float64)));
            Assert.IsFalse(GhostKernelChoice.UsesCpuKernels(zeros(4, 2, 3, dtype: ScalarType.Float16)));
            Assert.IsFalse(GhostKernelChoice.UsesCpuKernels(zeros(4, 2, 3, dtype: ScalarType.BFloat16)));
            GhostKernelChoice.ForcePortable = true;
            Assert.IsFalse(GhostKernelChoice.UsesCpuKernels(zeros(4, 2, 3)));
        }
        finally
        {
            GhostKernelChoice.ForcePortable = previous;
        }
    }
}
