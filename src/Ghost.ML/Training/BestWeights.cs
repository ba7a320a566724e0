using Ghost.ML.Torch.Models;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>
/// A copy on the CPU of the state_dict (parameters and BatchNorm statistics) of the best epoch so far, to put back
/// when training ends on a worse one. Kept in memory: no disk I/O.
/// </summary>
internal sealed class BestWeights : IDisposable
{
    private Dictionary<string, Tensor>? _stateDict;

    /// <summary>The epoch whose weights are kept, or 0 before the first.</summary>
    public int Epoch { get; private set; }

    /// <summary>Replaces the kept copy by <paramref name="model"/>'s current weights.</summary>
    public void Keep(nn.Module model, int epoch)
    {
        Dispose();
        using (no_grad())
        {
            _stateDict = model.state_dict().ToDictionary(entry => entry.Key, entry => entry.Value.detach().cpu().clone());
        }

        Epoch = epoch;
    }

    /// <summary>Copies the kept weights back into <paramref name="model"/>, in place.</summary>
    public void Restore(nn.Module model)
    {
        if (_stateDict is null)
        {
            throw new InvalidOperationException("No epoch's weights were kept.");
        }

        PretrainedWeights.Load(model, _stateDict);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var tensor in _stateDict?.Values ?? Enumerable.Empty<Tensor>())
        {
            tensor.Dispose();
        }

        _stateDict = null;
    }
}
