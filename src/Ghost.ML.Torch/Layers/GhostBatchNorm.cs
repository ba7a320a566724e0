using System.Diagnostics.CodeAnalysis;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// Ghost Batch Normalization (Hoffer, Hubara &amp; Soudry, 2017): in training, the batch is split into contiguous
/// ghost batches of about <see cref="GhostBatchSize"/> samples and each is normalized with its own mean and variance;
/// in evaluation the layer is plain BatchNorm with the running statistics.
/// </summary>
/// <remarks>
/// <para>
/// The layer has the same parameters, buffers and state_dict keys as TorchSharp's BatchNorm (<c>weight</c>,
/// <c>bias</c>, <c>running_mean</c>, <c>running_var</c>, <c>num_batches_tracked</c>), so a checkpoint moves freely
/// between the two. Use <see cref="GhostBatchNormSurgery.ApplyGhostBatchNorm"/> to swap the BatchNorm layers of an
/// existing model.
/// </para>
/// <para>
/// The split is MosaicML Composer's: a batch of N samples is cut as <c>torch.chunk(x, k)</c> with
/// <c>k = ceil(N / G)</c>, i.e. k ghost batches of <c>ceil(N / k)</c> samples, the last one shorter (N = 70, G = 32:
/// 24, 24, 22). Where G divides N every ghost batch holds G samples.
/// Running statistics follow Composer too: the result is that of updating them once per ghost batch, in batch order,
/// with momentum <c>momentum / k</c> and that ghost batch's unbiased variance; <c>num_batches_tracked</c> grows by
/// k. With <c>momentum = null</c> they are the cumulative average over every ghost batch seen. The k updates are
/// applied in closed form, without a loop, and without reading anything back to the host.
/// </para>
/// <para>
/// Where Ghost.ML differs from Composer on purpose: a last ghost batch with a single value per channel (one sample of
/// <c>[N, C]</c> input) is merged into the one before it, and a ghost batch size of 1 on such input acts as 2, so a
/// ghost batch never has an undefined variance (Composer fails there); k then counts the ghost batches after the
/// merge. A training batch of at most <see cref="GhostBatchSize"/> samples, and evaluation at any batch size, are
/// plain BatchNorm (Composer raises an error for N &lt; G, even in evaluation).
/// </para>
/// <para>
/// Training costs about what BatchNorm costs, or less: on the CPU vectorised managed kernels normalise each ghost
/// batch (a block of its channels at a time) right after computing its moments, while it is still in cache, so the
/// forward reads the input from memory once, and a hand-written backward reads the input and the gradient once.
/// CUDA, half precision and CPU tensors over 2 GiB take torch operations over views of the batch (the portable path;
/// the environment variable <c>GHOSTML_PORTABLE_KERNELS=1</c> forces it on the CPU too, to compare the two). There is
/// no per-ghost-batch loop of native calls, and a training step makes no host synchronisation.
/// The tensors saved for the backward are freed when it has run (see <see cref="KeepSavedTensorsAfterBackward"/>).
/// Gradients of gradients (<c>create_graph: true</c>) are exact.
/// </para>
/// <para>Half-precision input (float16, bfloat16) is saved as it is and normalized with moments computed in float32.</para>
/// </remarks>
public abstract class GhostBatchNorm : BatchNorm
{
    private int _ghostBatchSize;

    /// <summary>Creates the layer.</summary>
    /// <param name="numFeatures">Channels C of the input.</param>
    /// <param name="ghostBatchSize">Samples per ghost batch; at least 1.</param>
    /// <param name="eps">Added to the variance for numerical stability.</param>
    /// <param name="momentum">Running-statistics momentum per training batch, or null for a cumulative average.</param>
    /// <param name="affine">Whether the layer has a learnable per-channel scale and shift.</param>
    /// <param name="trackRunningStats">Whether running statistics are kept for evaluation.</param>
    /// <param name="device">Device of the parameters and buffers.</param>
    /// <param name="dtype">Element type of the parameters and buffers.</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ghostBatchSize"/> or <paramref name="numFeatures"/> is not positive.</exception>
    protected GhostBatchNorm(long numFeatures, int ghostBatchSize, double eps, double? momentum, bool affine,
        bool trackRunningStats, Device? device, ScalarType? dtype, string name)
        : base(CheckArguments(numFeatures, ghostBatchSize), eps, momentum ?? 0.0, affine, trackRunningStats, device, dtype, name)
    {
        _ghostBatchSize = ghostBatchSize;
        this.momentum = momentum;
    }

    /// <summary>Samples per ghost batch in training; at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int GhostBatchSize
    {
        get => _ghostBatchSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, nameof(GhostBatchSize));
            _ghostBatchSize = value;
        }
    }

    /// <summary>
    /// Whether the tensors saved for the backward (the input and the per-ghost-batch statistics) are kept after the
    /// backward has run; false by default.
    /// </summary>
    /// <remarks>
    /// TorchSharp frees a custom autograd node's saved tensors only with the whole graph, where PyTorch frees them as
    /// each node's backward finishes. The layer therefore frees them itself, which keeps a training step's peak memory
    /// at BatchNorm's level; the price is that a graph through the layer can be backpropagated only once. Set this to
    /// true before calling <c>backward(retain_graph: true)</c> and backpropagating the same graph again: a second
    /// backward through released tensors ends the process with an <see cref="InvalidOperationException"/>, because
    /// TorchSharp cannot pass exceptions out of a custom backward. A backward with <c>create_graph: true</c> keeps them
    /// regardless, because the backward of the gradient it builds may run through the layer again.
    /// </remarks>
    public bool KeepSavedTensorsAfterBackward { get; set; }

    /// <summary>The input shape the layer accepts, for error messages, e.g. <c>[N, 64, H, W]</c>.</summary>
    protected abstract string ExpectedShape { get; }

    /// <summary>The input ranks the layer accepts.</summary>
    protected abstract IReadOnlyList<long> AcceptedRanks { get; }

    /// <inheritdoc/>
    protected override void ValidateInputDimensions(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!AcceptedRanks.Contains(input.ndim) || input.shape[1] != num_features)
        {
            throw new ArgumentException(
                $"{GetName()} expects input of shape {ExpectedShape}; got [{string.Join(", ", input.shape)}].",
                nameof(input));
        }
    }

    /// <summary>Normalizes <paramref name="input"/>: per ghost batch in training, as BatchNorm in evaluation.</summary>
    /// <param name="input">A tensor of shape <see cref="ExpectedShape"/>.</param>
    /// <exception cref="ArgumentException">The input has the wrong rank or channel count, or, in training, a single value per channel.</exception>
    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        if (!training)
        {
            return base.forward(input);
        }

        var batchSize = input.shape[0];
        var valuesPerSample = input.numel() / Math.Max(1, batchSize * num_features);
        if (batchSize * valuesPerSample <= 1)
        {
            throw new ArgumentException(
                $"Expected more than 1 value per channel when training, got input size [{string.Join(", ", input.shape)}].",
                nameof(input));
        }

        var layout = GhostBatchLayout.Create(batchSize, GhostBatchSize, valuesPerSample);
        if (layout.Count == 1)
        {
            return base.forward(input);
        }

        using var scope = NewDisposeScope();
        return GhostForward(input, layout, valuesPerSample).MoveToOuterDisposeScope();
    }

    private Tensor GhostForward(Tensor input, GhostBatchLayout layout, long valuesPerSample)
    {
        // reshape, not view: a permuted input is read through its strides (or copied once where it must be).
        var rows = input.reshape(input.shape[0], num_features, valuesPerSample);
        var runningStatistics = track_running_stats && running_mean is not null && running_var is not null
            ? RunningStatisticsTermsOf(layout, valuesPerSample)
            : null;
        var output = GhostNormalization.apply(rows, weight!, bias!, layout, eps, KeepSavedTensorsAfterBackward,
            runningStatistics!);
        if (runningStatistics is not null)
        {
            UpdateRunningStatistics(runningStatistics, layout.Count);
        }

        return output.reshape(input.shape);
    }

    /// <summary>
    /// The n sequential BatchNorm updates, one per ghost batch, in closed form. With momentum m each uses m/n, so
    /// r ← (1 − a)ⁿ r + Σⱼ a (1 − a)ⁿ⁻¹⁻ʲ xⱼ with a = m/n; with momentum null they are the cumulative average,
    /// r ← s/(s + n) r + Σⱼ xⱼ/(s + n) with s = num_batches_tracked.
    /// </summary>
    private RunningStatisticsTerms RunningStatisticsTermsOf(GhostBatchLayout layout, long valuesPerSample) =>
        momentum is { } value
            ? new RunningStatisticsTerms(value / layout.Count, 1 - value / layout.Count, valuesPerSample)
            : new RunningStatisticsTerms(1, 1, valuesPerSample);

    /// <summary>Applies the terms a forward over <paramref name="count"/> ghost batches reported.</summary>
    private void UpdateRunningStatistics(RunningStatisticsTerms terms, int count)
    {
        using var noGrad = no_grad();
        var weightedMeans = To(terms.WeightedMeans!, running_mean!.dtype);
        var weightedVariances = To(terms.WeightedVariances!, running_var!.dtype);
        if (momentum is { } value)
        {
            var decay = Math.Pow(1 - value / count, count);
            running_mean.mul_(decay).add_(weightedMeans);
            running_var.mul_(decay).add_(weightedVariances);
        }
        else
        {
            // Kept on the device: reading num_batches_tracked on the host would wait for the device every step.
            var seen = num_batches_tracked is null
                ? zeros(1, running_mean.dtype, running_mean.device)
                : num_batches_tracked.to_type(running_mean.dtype);
            var total = seen + count;
            running_mean.mul_(seen / total).add_(weightedMeans / total);
            running_var.mul_(seen / total).add_(weightedVariances / total);
        }

        num_batches_tracked?.add_(count);
    }

    /// <summary><paramref name="tensor"/> in element type <paramref name="type"/>, without a new tensor when it already is.</summary>
    [return: NotNullIfNotNull(nameof(tensor))]
    private static Tensor? To(Tensor? tensor, ScalarType type) =>
        tensor is null || tensor.dtype == type ? tensor : tensor.to_type(type);

    private static long CheckArguments(long numFeatures, int ghostBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ghostBatchSize);
        return numFeatures;
    }
}
