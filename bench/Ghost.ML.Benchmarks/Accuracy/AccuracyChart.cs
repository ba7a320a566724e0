using ScottPlot;

namespace Ghost.ML.Benchmarks.Accuracy;

/// <summary>
/// The study's chart: this project's test accuracy per epoch, one line per ghost batch size at the mean over the seeds
/// with a band from the lowest to the highest seed; the reference implementation's final accuracy as mean ± standard
/// deviation beside the last epoch, in the same colour.
/// </summary>
internal static class AccuracyChart
{
    private const double ReferenceOffset = 0.12;

    /// <summary>Draws <paramref name="results"/> into a PNG at <paramref name="path"/>.</summary>
    public static void Save(string path, string title, IReadOnlyList<EpochResult> results, IReadOnlyList<ConfigurationSummary> summaries)
    {
        var plot = new Plot();
        var ghostBatchSizes = results.Select(result => result.GhostBatchSize).Distinct().Order().ToList();
        var lastEpoch = results.Max(result => result.Epoch);
        foreach (var ghostBatchSize in ghostBatchSizes)
        {
            var color = plot.Add.Palette.GetColor(ghostBatchSizes.IndexOf(ghostBatchSize));
            var ours = results.Where(result => result.Implementation == AccuracyCsv.Ours && result.GhostBatchSize == ghostBatchSize)
                .GroupBy(result => result.Epoch).OrderBy(epoch => epoch.Key)
                .Select(epoch => (Epoch: (double)epoch.Key, Mean: 100 * epoch.Average(r => r.TestAccuracy),
                    Low: 100 * epoch.Min(r => r.TestAccuracy), High: 100 * epoch.Max(r => r.TestAccuracy), Seeds: epoch.Count()))
                .ToList();
            if (ours.Count > 0)
            {
                var band = plot.Add.FillY(ours.Select(p => p.Epoch).ToArray(), ours.Select(p => p.Low).ToArray(), ours.Select(p => p.High).ToArray());
                band.FillColor = color.WithAlpha(0.2);
                band.LineWidth = 0;
                var line = plot.Add.Scatter(ours.Select(p => p.Epoch).ToArray(), ours.Select(p => p.Mean).ToArray(), color);
                line.LegendText = $"Ghost.ML, {AccuracySummary.Normalisation(ghostBatchSize)} " +
                    (ours.Max(p => p.Seeds) is var seeds && seeds == 1 ? "(1 seed)" : $"(mean of {seeds} seeds, band min–max)");
            }

            foreach (var reference in summaries.Where(s => s.Implementation != AccuracyCsv.Ours && s.GhostBatchSize == ghostBatchSize))
            {
                var x = lastEpoch + ReferenceOffset * (1 + ghostBatchSizes.IndexOf(ghostBatchSize));
                var bar = plot.Add.ErrorBar([x], [100 * reference.Mean], [100 * (reference.StandardDeviation ?? 0)]);
                bar.Color = color;
                var marker = plot.Add.Marker(x, 100 * reference.Mean, MarkerShape.OpenSquare, size: 9, color);
                marker.LegendText = $"{reference.Implementation}, {AccuracySummary.Normalisation(ghostBatchSize)}, " +
                    $"final (mean ± std of {reference.FinalAccuracies.Count} seeds)";
            }
        }

        var epochs = Enumerable.Range(1, lastEpoch).ToArray();
        plot.Axes.Bottom.SetTicks(epochs.Select(epoch => (double)epoch).ToArray(), epochs.Select(epoch => epoch.ToString()).ToArray());
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("test accuracy (%)");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 900, 560);
    }
}
