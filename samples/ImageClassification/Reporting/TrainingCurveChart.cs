using ScottPlot;

namespace ImageClassification.Reporting;

/// <summary>Draws the training curves (train and validation loss and accuracy per epoch) of one or more runs with ScottPlot.</summary>
internal static class TrainingCurveChart
{
    private const int Width = 1200;
    private const int Height = 500;

    /// <summary>Saves a PNG with a loss plot and an accuracy plot side by side; each run has its own colour.</summary>
    public static void SavePng(IReadOnlyList<TrainingRun> runs, string path)
    {
        var chart = new Multiplot();
        chart.Layout = new ScottPlot.MultiplotLayouts.Columns();
        chart.AddPlots(2);
        var loss = chart.GetPlot(0);
        var accuracy = chart.GetPlot(1);
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var color = palette.GetColor(i);
            double[] epochs = [.. run.History.Select(m => (double)m.Epoch)];
            AddCurve(loss, epochs, [.. run.History.Select(m => m.TrainLoss)], $"{run.Name} train", color, LinePattern.Solid);
            AddCurve(accuracy, epochs, [.. run.History.Select(m => m.TrainAccuracy)], $"{run.Name} train", color, LinePattern.Solid);
            if (run.History.All(m => m.ValidationLoss.HasValue && m.ValidationAccuracy.HasValue))
            {
                AddCurve(loss, epochs, [.. run.History.Select(m => m.ValidationLoss!.Value)], $"{run.Name} validation", color, LinePattern.Dashed);
                AddCurve(accuracy, epochs, [.. run.History.Select(m => m.ValidationAccuracy!.Value)], $"{run.Name} validation", color, LinePattern.Dashed);
            }
        }

        Label(loss, "Loss", "cross-entropy", Alignment.UpperRight);
        Label(accuracy, "Accuracy", "accuracy", Alignment.LowerRight);
        accuracy.Axes.SetLimitsY(0, 1);
        chart.SavePng(path, Width, Height);
    }

    private static void AddCurve(Plot plot, double[] epochs, double[] values, string legend, Color color, LinePattern pattern)
    {
        var curve = plot.Add.Scatter(epochs, values, color);
        curve.LegendText = legend;
        curve.LinePattern = pattern;
        curve.LineWidth = 2;
    }

    private static void Label(Plot plot, string title, string yLabel, Alignment legendCorner)
    {
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(legendCorner);
    }
}
