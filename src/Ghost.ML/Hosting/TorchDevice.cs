using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Hosting;

/// <summary>Turns the <c>Device</c> option ("auto", "cpu", "cuda", "cuda:N") into a TorchSharp device.</summary>
internal static class TorchDevice
{
    private const string Auto = "auto";

    /// <summary>Checks the spelling without touching any backend.</summary>
    /// <param name="device">The text.</param>
    /// <param name="paramName">The option or parameter it came from, for the exception.</param>
    /// <exception cref="ArgumentException">The text is not a device name.</exception>
    public static void Parse(string? device, string paramName)
    {
        if (device is null || !(IsAuto(device) || IsCpu(device) || IsCuda(device, out _)))
        {
            throw new ArgumentException(
                $"{paramName} must be \"auto\", \"cpu\", \"cuda\" or \"cuda:N\"; got {(device is null ? "null" : $"\"{device}\"")}.", paramName);
        }
    }

    /// <summary>
    /// The device to train or score on, the one rule for Fit and Load: "auto" picks CUDA when TorchSharp's CUDA
    /// backend reports a GPU, else the CPU.
    /// </summary>
    /// <param name="device">The text.</param>
    /// <param name="paramName">The option or parameter it came from, for the exception.</param>
    /// <exception cref="ArgumentException">The text is not a device name.</exception>
    /// <exception cref="InvalidOperationException">CUDA was asked for and is not available.</exception>
    public static Device Resolve(string device, string paramName)
    {
        Parse(device, paramName);
        if (IsCpu(device) || (IsAuto(device) && !cuda.is_available()))
        {
            return CPU;
        }

        if (!cuda.is_available())
        {
            throw new InvalidOperationException(
                $"Device \"{device}\" was requested but CUDA is not available: reference the CUDA TorchSharp backend (TorchSharp-cuda-linux or TorchSharp-cuda-windows) and check the driver, or set {paramName} to \"auto\" or \"cpu\".");
        }

        IsCuda(device, out int index);
        return torch.device(DeviceType.CUDA, index);
    }

    /// <summary>
    /// The device by ML.NET's rule (<c>MLContext.GpuDeviceId</c>, <c>MLContext.FallbackToCpu</c>), used where ML.NET
    /// creates the component (mlContext.Model.Load): the CPU unless a GPU is named.
    /// </summary>
    /// <exception cref="InvalidOperationException">A GPU is named, CUDA is not available and falling back to the CPU is off.</exception>
    public static Device ForMLContext(int? gpuDeviceId, bool fallbackToCpu)
    {
        if (gpuDeviceId is not { } gpu || (fallbackToCpu && !cuda.is_available()))
        {
            return CPU;
        }

        return cuda.is_available()
            ? torch.device(DeviceType.CUDA, gpu)
            : throw new InvalidOperationException(
                $"MLContext.GpuDeviceId is {gpu} but CUDA is not available: reference the CUDA TorchSharp backend (TorchSharp-cuda-linux or TorchSharp-cuda-windows) and check the driver, set MLContext.FallbackToCpu, or leave GpuDeviceId null for the CPU.");
    }

    private static bool IsAuto(string device) => device.Equals(Auto, StringComparison.OrdinalIgnoreCase);

    private static bool IsCpu(string device) => device.Equals("cpu", StringComparison.OrdinalIgnoreCase);

    private static bool IsCuda(string device, out int index)
    {
        index = 0;
        if (device.Equals("cuda", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return device.StartsWith("cuda:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(device.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index);
    }
}
