using ImageClassification.Model;
using Spectre.Console;

namespace ImageClassification.Reporting;

/// <summary>Prints predictions: image, true label, predicted label and confidence.</summary>
internal static class PredictionReport
{
    public static void Write(IAnsiConsole console, string title, IReadOnlyList<ModelOutput> predictions, Func<string, string> displayName)
    {
        var table = new Table().Title(Markup.Escape(title))
            .AddColumn("Image")
            .AddColumn("True label")
            .AddColumn("Predicted label")
            .AddColumn(new TableColumn("Confidence").RightAligned());
        foreach (var prediction in predictions)
        {
            var color = prediction.PredictedLabel == prediction.Label ? "green" : "red";
            table.AddRow(
                Markup.Escape(displayName(prediction.ImagePath)),
                Markup.Escape(prediction.Label),
                $"[{color}]{Markup.Escape(prediction.PredictedLabel)}[/]",
                $"{prediction.Confidence:P1}");
        }

        console.Write(table);
    }
}
