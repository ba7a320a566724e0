using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// Per-channel sums over the ghost batches, gathered by <see cref="GhostCpuKernels"/> while its work items run: the
/// weight and bias gradients and the running statistics' weighted means and variances. Each slot of
/// <see cref="GhostCpuLoops"/> adds into rows of its own, and <see cref="CopyTo"/> adds the rows up in slot order, so the
/// per-pair values never go through memory and the sums come out the same for any thread count up to eight (see
/// <see cref="GhostCpuLoops.Slots"/>).
/// </summary>
/// <typeparam name="T">Element type of the sums.</typeparam>
internal sealed unsafe class GhostChannelSums<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T* _data;
    private readonly int _slots;
    private readonly long _channels;

    /// <summary>Zeroed sums of <paramref name="quantities"/> quantities over <paramref name="channels"/> channels for every slot.</summary>
    public GhostChannelSums(int quantities, int slots, long channels)
    {
        (_slots, _channels) = (slots, channels);
        var bytes = checked((nuint)(quantities * slots * channels * sizeof(T)));
        // Cache-line aligned, as torch aligns its tensors, so no vector load or store straddles two lines.
        _data = (T*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(_data, bytes);
    }

    /// <summary>Adds <paramref name="weight"/> · values to one slot's sums of <paramref name="quantity"/>, from channel <paramref name="firstChannel"/> on.</summary>
    /// <param name="quantity">Which quantity.</param>
    /// <param name="slot">The work item's slot; only one thread adds to a slot.</param>
    /// <param name="firstChannel">Channel of <c>values[0]</c>.</param>
    /// <param name="channels">How many values to add.</param>
    /// <param name="values">Per-channel values; at least <paramref name="channels"/> long.</param>
    /// <param name="weight">Factor on the values.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(int quantity, int slot, int firstChannel, int channels, ReadOnlySpan<T> values, T weight)
    {
        var sums = _data + (quantity * _slots + slot) * _channels + firstChannel;
        var weights = new Vector<T>(weight);
        fixed (T* value = values)
        {
            var i = 0;
            for (; i + Vector<T>.Count <= channels; i += Vector<T>.Count)
            {
                Vector.Store(Vector.Load(sums + i) + weights * Vector.Load(value + i), sums + i);
            }

            for (; i < channels; i++)
            {
                sums[i] += weight * value[i];
            }
        }
    }

    /// <summary>Writes the sum over all slots of <paramref name="quantity"/> into <paramref name="target"/>, a contiguous <c>[C]</c> tensor of type T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void CopyTo(int quantity, Tensor target)
    {
        var partials = _data + quantity * _slots * _channels;
        fixed (byte* targetBytes = target.bytes)
        {
            var sums = (T*)targetBytes;
            new ReadOnlySpan<T>(partials, (int)_channels).CopyTo(new Span<T>(sums, (int)_channels));
            for (var slot = 1; slot < _slots; slot++)
            {
                var slotSums = partials + slot * _channels;
                long i = 0;
                for (; i + Vector<T>.Count <= _channels; i += Vector<T>.Count)
                {
                    Vector.Store(Vector.Load(sums + i) + Vector.Load(slotSums + i), sums + i);
                }

                for (; i < _channels; i++)
                {
                    sums[i] += slotSums[i];
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => NativeMemory.AlignedFree(_data);
}
