using ScottPlot;

namespace Ghost.ML.Benchmarks.Accuracy;

/// <summary>The study's chart: test accuracy per epoch, one line per ghost batch size.</summary>
internal static class AccuracyChart
{
    /// <summary>Draws <paramref name="results"/> into a PNG at <paramref name="path"/>.</summary>
    public static void Save(string path, string title, IEnumerable<EpochResult> results)
    {
        var plot = new Plot();
        foreach (var run in results.GroupBy(result => result.GhostBatchSize))
        {
            var line = plot.Add.Scatter(run.Select(r => (double)r.Epoch).ToArray(), run.Select(r => 100 * r.TestAccuracy).ToArray());
            line.LegendText = $"ghost batch {AccuracyStudy.Label(run.Key)}";
        }

        var epochs = results.Select(result => result.Epoch).Distinct().Order().ToArray();
        plot.Axes.Bottom.SetTicks(epochs.Select(epoch => (double)epoch).ToArray(), epochs.Select(epoch => epoch.ToString()).ToArray());
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("test accuracy (%)");
        plot.ShowLegend();
        plot.SavePng(path, 800, 500);
    }
}
