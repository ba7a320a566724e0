using Spectre.Console;

namespace ImageClassification.Reporting;

/// <summary>Prints predictions: image, true label, predicted label and confidence.</summary>
internal static class PredictionReport
{
    public static void Write(IAnsiConsole console, string title, IReadOnlyList<ImagePrediction> predictions, Func<string, string> displayName)
    {
        var table = new Table().Title(Markup.Escape(title))
            .AddColumn("Image")
            .AddColumn("True label")
            .AddColumn("Predicted label")
            .AddColumn(new TableColumn("Confidence").RightAligned());
        foreach (var prediction in predictions)
        {
            var color = prediction.Output.PredictedLabel == prediction.Image.Label ? "green" : "red";
            table.AddRow(
                Markup.Escape(displayName(prediction.ImageName)),
                Markup.Escape(prediction.Image.Label),
                $"[{color}]{Markup.Escape(prediction.Output.PredictedLabel)}[/]",
                $"{prediction.Output.Confidence:P1}");
        }

        console.Write(table);
    }
}
