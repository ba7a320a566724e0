using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// Which implementation computes a ghost layer in training: <see cref="GhostCpuKernels"/> for the float CPU tensors
/// they take, <see cref="GhostPortableKernels"/> for everything else, or for everything when the portable path is
/// forced.
/// </summary>
internal static class GhostKernelChoice
{
    /// <summary>The environment variable that forces the portable path on the CPU when set to <c>1</c>.</summary>
    public const string PortableKernelsVariable = "GHOSTML_PORTABLE_KERNELS";

    /// <summary>
    /// Whether every ghost layer in the process takes the portable path; read from
    /// <see cref="PortableKernelsVariable"/> once, settable by tests and benchmarks that compare the two paths.
    /// </summary>
    public static bool ForcePortable { get; set; } = PortableForcedByEnvironment();

    /// <summary>Whether <see cref="PortableKernelsVariable"/> is set to <c>1</c> in this process's environment.</summary>
    internal static bool PortableForcedByEnvironment() => Environment.GetEnvironmentVariable(PortableKernelsVariable) == "1";

    /// <summary>Whether <paramref name="rows"/> go through <see cref="GhostCpuKernels"/>.</summary>
    public static bool UsesCpuKernels(Tensor rows) => !ForcePortable && GhostCpuKernels.CanRun(rows);
}
