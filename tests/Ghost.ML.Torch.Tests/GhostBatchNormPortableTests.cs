namespace Ghost.ML.Torch.Tests;

/// <summary>
/// The layer's tests through <see cref="GhostPortableKernels"/>, the torch-operation path that CUDA, half precision and
/// CPU tensors over 2 GiB take, forced on the CPU as <c>GHOSTML_PORTABLE_KERNELS=1</c> forces it.
/// </summary>
[TestClass]
public sealed class GhostBatchNormPortableTests : GhostBatchNormTests
{
    /// <inheritdoc/>
    protected override bool Portable => true;
}
