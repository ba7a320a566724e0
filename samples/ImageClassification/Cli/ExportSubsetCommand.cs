using System.CommandLine;
using ImageClassification.Data;
using Spectre.Console;

namespace ImageClassification.Cli;

/// <summary>
/// The hidden maintenance command that wrote the embedded data set:
/// <c>dotnet run --project samples/ImageClassification -- export-subset --idx &lt;fashion-mnist&gt; --to &lt;folder&gt;</c>.
/// </summary>
internal static class ExportSubsetCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var idx = new Option<string>("--idx") { Description = "The folder of Fashion-MNIST's IDX files.", Required = true, HelpName = "folder" };
        var to = new Option<string>("--to") { Description = "The folder to write train/<class>/*.png and test/<class>/*.png to.", Required = true, HelpName = "folder" };
        var trainPerClass = SampleCommandLine.InRange(1, 6_000, new Option<int>("--train-per-class") { Description = "Training images per class.", DefaultValueFactory = _ => 300 });
        var testPerClass = SampleCommandLine.InRange(1, 1_000, new Option<int>("--test-per-class") { Description = "Test images per class.", DefaultValueFactory = _ => 100 });
        var command = new Command("export-subset", "Writes a class-balanced subset of Fashion-MNIST as PNG files (how the embedded data was made).")
        {
            idx, to, trainPerClass, testPerClass,
        };
        command.Hidden = true;
        command.SetAction(parseResult => SampleCommandLine.Run(parseResult, () =>
        {
            var target = parseResult.GetRequiredValue(to);
            var written = SubsetExporter.Export(
                parseResult.GetRequiredValue(idx), target, parseResult.GetValue(trainPerClass), parseResult.GetValue(testPerClass));
            console.MarkupLineInterpolated($"Wrote {written} PNG files to [bold]{target}[/].");
        }));
        return command;
    }
}
