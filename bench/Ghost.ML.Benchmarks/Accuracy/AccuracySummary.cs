using System.Globalization;
using System.Text;

namespace Ghost.ML.Benchmarks.Accuracy;

/// <summary>The final test accuracy of every seed of one implementation and normalisation, and their spread.</summary>
/// <param name="Implementation">Who trained.</param>
/// <param name="GhostBatchSize">Ghost batch size; 0 for plain BatchNorm.</param>
/// <param name="FinalAccuracies">Test accuracy after the last epoch, by seed in ascending order.</param>
/// <param name="MeanEpochSeconds">Mean time of an epoch over the runs that recorded it; null if none did.</param>
internal sealed record ConfigurationSummary(string Implementation, int GhostBatchSize,
    IReadOnlyList<(int Seed, double Accuracy)> FinalAccuracies, double? MeanEpochSeconds)
{
    /// <summary>Mean final accuracy.</summary>
    public double Mean => FinalAccuracies.Average(run => run.Accuracy);

    /// <summary>Sample standard deviation of the final accuracy (n − 1); null for a single seed, where it is undefined.</summary>
    public double? StandardDeviation => FinalAccuracies.Count < 2 ? null : Math.Sqrt(
        FinalAccuracies.Sum(run => Math.Pow(run.Accuracy - Mean, 2)) / (FinalAccuracies.Count - 1));
}

/// <summary>Per configuration: each seed's final accuracy, mean and standard deviation, as a Markdown table.</summary>
internal static class AccuracySummary
{
    /// <summary>
    /// Groups <paramref name="results"/> by implementation and ghost batch size. A run counts once it has reached the
    /// group's last epoch, so a run still in progress does not enter the statistics with an early accuracy.
    /// </summary>
    public static IReadOnlyList<ConfigurationSummary> Summarize(IEnumerable<EpochResult> results) =>
        results.GroupBy(result => (result.Implementation, result.GhostBatchSize))
            .OrderBy(group => group.Key.Implementation == AccuracyCsv.Ours ? 0 : 1).ThenBy(group => group.Key.Implementation)
            .ThenBy(group => group.Key.GhostBatchSize)
            .Select(group =>
            {
                var lastEpoch = group.Max(result => result.Epoch);
                var finals = group.Where(result => result.Epoch == lastEpoch).OrderBy(result => result.Seed)
                    .Select(result => (result.Seed, result.TestAccuracy)).ToList();
                var seconds = group.Where(result => result.Elapsed is not null).Select(result => result.Elapsed!.Value.TotalSeconds).ToList();
                return new ConfigurationSummary(group.Key.Implementation, group.Key.GhostBatchSize, finals,
                    seconds.Count == 0 ? null : seconds.Average());
            })
            .ToList();

    /// <summary>
    /// The table BENCHMARKS.md quotes: per configuration the seeds' final accuracies, their mean and standard deviation,
    /// the difference of the mean to the same implementation's plain BatchNorm, and the mean time of an epoch.
    /// </summary>
    public static string ToMarkdown(IReadOnlyList<ConfigurationSummary> summaries)
    {
        var text = new StringBuilder()
            .AppendLine("| implementation | normalisation | final test accuracy by seed | mean | std | mean − BatchNorm | s / epoch |")
            .AppendLine("|---|---|---|---:|---:|---:|---:|");
        foreach (var summary in summaries)
        {
            var batchNorm = summaries.FirstOrDefault(other => other.Implementation == summary.Implementation && other.GhostBatchSize == 0);
            var difference = batchNorm is null || summary.GhostBatchSize == 0 ? "" : Points(summary.Mean - batchNorm.Mean, signed: true);
            var seeds = string.Join(", ", summary.FinalAccuracies.Select(run => $"{run.Seed}: {Percent(run.Accuracy)}"));
            text.AppendLine(CultureInfo.InvariantCulture, $"| {summary.Implementation} | {Normalisation(summary.GhostBatchSize)} | {seeds} | " +
                $"{Percent(summary.Mean)} | {(summary.StandardDeviation is { } deviation ? Points(deviation, signed: false) : "")} | {difference} | " +
                $"{summary.MeanEpochSeconds?.ToString("F0", CultureInfo.InvariantCulture)} |");
        }

        return text.ToString();
    }

    /// <summary>"BatchNorm" or "G = n".</summary>
    public static string Normalisation(int ghostBatchSize) =>
        ghostBatchSize == 0 ? "BatchNorm" : string.Create(CultureInfo.InvariantCulture, $"G = {ghostBatchSize}");

    private static string Percent(double accuracy) => string.Create(CultureInfo.InvariantCulture, $"{100 * accuracy:F1} %");

    private static string Points(double accuracyDifference, bool signed) =>
        (100 * accuracyDifference).ToString(signed ? "+0.0;−0.0" : "F1", CultureInfo.InvariantCulture) + " pt";
}
