using ImageClassification.Model;
using Spectre.Console;

namespace ImageClassification.Reporting;

/// <summary>Prints test metrics as Spectre.Console tables: the summary, per-class scores and the confusion matrix.</summary>
internal static class EvaluationReport
{
    /// <summary>Micro and macro accuracy, log-loss and the training time of one run.</summary>
    public static void WriteSummary(IAnsiConsole console, TrainingRun run) => WriteComparison(console, [run]);

    /// <summary>The summary metrics of several runs side by side, one column per run.</summary>
    public static void WriteComparison(IAnsiConsole console, IReadOnlyList<TrainingRun> runs)
    {
        var table = new Table().Title("Test metrics").AddColumn("Metric");
        foreach (var run in runs)
        {
            table.AddColumn(new TableColumn(Markup.Escape(run.Name)).RightAligned());
        }

        AddRow(table, runs, "Micro accuracy", run => $"{run.Evaluation.Metrics.MicroAccuracy:P2}");
        if (runs.Any(run => run.Onnx is not null))
        {
            AddRow(table, runs, "Micro accuracy, ONNX Runtime (.onnx)", run => run.Onnx is { } onnx ? $"{onnx.TestAccuracy:P2}" : "");
        }

        AddRow(table, runs, "Macro accuracy", run => $"{run.Evaluation.Metrics.MacroAccuracy:P2}");
        AddRow(table, runs, "Log-loss", run => $"{run.Evaluation.Metrics.LogLoss:F4}");
        AddRow(table, runs, "Log-loss reduction", run => $"{run.Evaluation.Metrics.LogLossReduction:F4}");
        AddRow(table, runs, "Final train loss", run => $"{run.History[^1].TrainLoss:F4}");
        AddRow(table, runs, "Training time", run => $"{run.TrainingTime.TotalSeconds:F0} s");
        AddRow(table, runs, "Images/s (mean)", run => $"{run.History.Average(m => m.ImagesPerSecond):F0}");
        console.Write(table);
    }

    /// <summary>Precision, recall and F1 of each class, with its number of test images.</summary>
    public static void WritePerClass(IAnsiConsole console, ModelEvaluation evaluation)
    {
        var confusion = evaluation.Metrics.ConfusionMatrix;
        var table = new Table().Title("Per class")
            .AddColumn("Class")
            .AddColumn(new TableColumn("Precision").RightAligned())
            .AddColumn(new TableColumn("Recall").RightAligned())
            .AddColumn(new TableColumn("F1").RightAligned())
            .AddColumn(new TableColumn("Test images").RightAligned());
        for (var i = 0; i < evaluation.ClassNames.Count; i++)
        {
            var precision = confusion.PerClassPrecision[i];
            var recall = confusion.PerClassRecall[i];
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            table.AddRow(
                Markup.Escape(evaluation.ClassNames[i]), $"{precision:P1}", $"{recall:P1}", $"{f1:P1}",
                $"{confusion.Counts[i].Sum():F0}");
        }

        console.Write(table);
    }

    /// <summary>The confusion matrix: one row per true class, one column per predicted class (numbered to stay narrow).</summary>
    public static void WriteConfusionMatrix(IAnsiConsole console, ModelEvaluation evaluation)
    {
        var counts = evaluation.Metrics.ConfusionMatrix.Counts;
        var table = new Table().Title("Confusion matrix (rows: true class, columns: predicted class)").AddColumn("True \\ predicted");
        for (var j = 0; j < evaluation.ClassNames.Count; j++)
        {
            table.AddColumn(new TableColumn($"{j}").RightAligned());
        }

        for (var i = 0; i < evaluation.ClassNames.Count; i++)
        {
            var cells = new List<string> { Markup.Escape($"{i} {evaluation.ClassNames[i]}") };
            cells.AddRange(counts[i].Select((count, j) => i == j ? $"[green]{count:F0}[/]" : count == 0 ? "[grey]0[/]" : $"{count:F0}"));
            table.AddRow([.. cells]);
        }

        console.Write(table);
    }

    private static void AddRow(Table table, IReadOnlyList<TrainingRun> runs, string metric, Func<TrainingRun, string> format) =>
        table.AddRow([metric, .. runs.Select(format)]);
}
