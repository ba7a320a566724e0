using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// What one training forward adds to the running statistics: ghost batch j of n contributes its mean with weight
/// wⱼ = rate · decayⁿ⁻¹⁻ʲ and its unbiased variance with the same weight, and the forward reports Σⱼ wⱼ · meanⱼ and
/// Σⱼ wⱼ · unbiased varianceⱼ per channel, computed where the moments are (no per-pair statistics leave the kernels,
/// and nothing is copied between host and device).
/// </summary>
/// <param name="rate">The weight of the last ghost batch.</param>
/// <param name="decay">The factor between the weights of consecutive ghost batches.</param>
/// <param name="valuesPerSample">Values per channel in one sample, for the unbiased variance.</param>
internal sealed class RunningStatisticsTerms(double rate, double decay, long valuesPerSample)
{
    /// <summary>Σⱼ wⱼ · meanⱼ per channel, <c>[C]</c>, once the forward has run.</summary>
    public Tensor? WeightedMeans { get; private set; }

    /// <summary>Σⱼ wⱼ · unbiased varianceⱼ per channel, <c>[C]</c>, once the forward has run.</summary>
    public Tensor? WeightedVariances { get; private set; }

    /// <summary>wⱼ for every ghost batch j of <paramref name="layout"/>.</summary>
    public double[] MeanWeights(GhostBatchLayout layout) =>
        Enumerable.Range(0, layout.Count).Select(j => rate * Math.Pow(decay, layout.Count - 1 - j)).ToArray();

    /// <summary>
    /// wⱼ times the factor that turns ghost batch j's biased variance into the unbiased one, as one BatchNorm call per
    /// ghost batch would record it, for every ghost batch j of <paramref name="layout"/>.
    /// </summary>
    public double[] VarianceWeights(GhostBatchLayout layout) =>
        MeanWeights(layout).Select((weight, j) => weight * BesselFactor(layout.Size(j) * valuesPerSample)).ToArray();

    /// <summary>
    /// wⱼ for the <paramref name="count"/> ghost batches from <paramref name="first"/> on, as a tensor made on
    /// <paramref name="device"/> (a fill and a power, no copy from the host).
    /// </summary>
    public Tensor MeanWeights(GhostBatchLayout layout, int first, int count, ScalarType type, Device device)
    {
        var last = layout.Count - 1 - first;
        return full(count, decay, type, device).pow_(arange(last, last - count, -1, type, device)).mul_(rate);
    }

    /// <summary>n / (n − 1): turns the biased variance of n values into the unbiased one.</summary>
    public static double BesselFactor(long values) => values / (values - 1.0);

    internal void Report(Tensor weightedMeans, Tensor weightedVariances) =>
        (WeightedMeans, WeightedVariances) = (weightedMeans, weightedVariances);
}
