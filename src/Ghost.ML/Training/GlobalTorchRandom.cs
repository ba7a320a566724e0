using Ghost.ML.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>
/// Serializes the use of libtorch's one process-wide random generator between Fits. TorchSharp initializes weights
/// (and runs dropout) with that generator only, so two seeded Fits running at once would each reseed it under the
/// other and draw from one stream. A Fit seeds it and keeps it while it builds its network, and for its whole training
/// when the network may draw random numbers in its forward pass (dropout, or a module type of the caller's own).
/// Shuffling and augmentation use a generator per Fit and need no lock.
/// </summary>
internal sealed class GlobalTorchRandom : IDisposable
{
    private static readonly SemaphoreSlim s_generator = new(1, 1);

    private int _held = 1;

    private GlobalTorchRandom()
    {
    }

    /// <summary>Waits until no other Fit holds the generator, then seeds it with <paramref name="seed"/>.</summary>
    public static GlobalTorchRandom Seed(int seed)
    {
        s_generator.Wait();
        torch.manual_seed(seed);
        return new GlobalTorchRandom();
    }

    /// <summary>
    /// Whether a forward pass of <paramref name="model"/> in training mode may draw from the process-wide generator:
    /// it has a dropout layer, or a module type from outside TorchSharp and Ghost.ML.Torch, whose forward is unknown.
    /// </summary>
    public static bool DrawsWhileTraining(nn.Module model) => model.modules().Any(module =>
        module is Dropout or Dropout1d or Dropout2d or Dropout3d or AlphaDropout or FeatureAlphaDropout
        || (module.GetType().Assembly != typeof(torch).Assembly && module.GetType().Assembly != typeof(GhostBatchNorm).Assembly));

    /// <summary>Lets the next Fit seed the generator; later calls do nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _held, 0) == 1)
        {
            s_generator.Release();
        }
    }
}
