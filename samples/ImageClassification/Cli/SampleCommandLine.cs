using System.CommandLine;
using System.Globalization;
using System.CommandLine.Parsing;
using Ghost.ML.Torch.Models;
using ImageClassification.Data;
using Spectre.Console;

namespace ImageClassification.Cli;

/// <summary>The sample's command line: options, their checks, and the one-line error contract.</summary>
internal static class SampleCommandLine
{
    /// <summary>Exit code for input the sample cannot use, and for invalid options.</summary>
    public const int InputErrorExitCode = 1;

    /// <summary>Exit code when the user cancels (Ctrl+C).</summary>
    public const int CancelledExitCode = 130;

    /// <summary>The most epochs the sample trains: far beyond any useful schedule, and small enough to count in an int.</summary>
    public const int MaximumEpochs = 100_000;

    /// <summary>The largest batch (and ghost batch) the sample accepts.</summary>
    public const int MaximumBatchSize = 65_536;

    /// <summary>The largest image side the sample accepts: 1024×1024 colour images are 3 MiB each.</summary>
    public const int MaximumImageSize = 1024;

    private static readonly SampleSettings Defaults = new();

    /// <summary>
    /// Parses <paramref name="args"/> and runs the chosen command. Invalid options give one <c>error:</c> line each,
    /// not the whole help text (that is one <c>--help</c> away).
    /// </summary>
    /// <param name="configuration">Where errors go (standard error unless given), for tests.</param>
    /// <returns>The process exit code.</returns>
    public static int Invoke(string[] args, IAnsiConsole console, InvocationConfiguration? configuration = null)
    {
        configuration ??= new InvocationConfiguration();
        var parseResult = Create(console).Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var error in parseResult.Errors)
            {
                configuration.Error.WriteLine($"error: {error.Message}");
            }

            return InputErrorExitCode;
        }

        return parseResult.Invoke(configuration);
    }

    /// <summary>Builds the root command; its action runs the sample and writes to <paramref name="console"/>.</summary>
    public static RootCommand Create(IAnsiConsole console)
    {
        var data = new Option<string?>("--data")
        {
            Description = "A folder with one subfolder of images per class (or train/ and test/ folders of those). "
                + "Default: the embedded Fashion-MNIST subset.",
            HelpName = "folder",
        };
        var idx = new Option<string?>("--idx")
        {
            Description = "A folder of IDX files in Fashion-MNIST's layout (train-*/t10k-*-ubyte[.gz]), e.g. the full Fashion-MNIST.",
            HelpName = "folder",
        };
        var epochs = InRange(1, MaximumEpochs, WithDefault("--epochs", "Training epochs.", Defaults.Epochs));
        var batchSize = InRange(1, MaximumBatchSize, WithDefault("--batch-size", "Images per optimizer step.", Defaults.BatchSize));
        var ghostBatchSize = InRange(0, MaximumBatchSize, WithDefault(
            "--ghost-batch-size",
            "Images per ghost batch (BatchNorm statistics are computed over each); 0 = plain BatchNorm.",
            Defaults.GhostBatchSize));
        var architecture = WithDefault(
            "--architecture",
            "The network: ResNet20..ResNet110 are small-image CIFAR-style ResNets, ResNet18/34/50 ImageNet-style and TorchVision-compatible.",
            Defaults.Architecture);
        var imageSize = InRange(8, MaximumImageSize, WithDefault("--image-size", "Images are resized to this width and height in pixels.", Defaults.ImageSize));
        var output = WithDefault("--output", "Folder for model.zip and the training-curve chart.", Defaults.OutputFolder);
        output.HelpName = "folder";
        var seed = InRange(0, int.MaxValue, WithDefault("--seed", "Seed for the split, the weights and the shuffling.", Defaults.Seed));
        var compare = new Option<bool>("--compare") { Description = "Also train the same configuration with plain BatchNorm and compare both." };
        var pretrained = new Option<string?>("--pretrained")
        {
            Description = "Start from the weights in this file instead of from scratch: a PyTorch state_dict (.pt, .pth), .safetensors, "
                + "TorchSharp .dat, or a model.zip of an earlier run. They must be for --architecture; nothing is downloaded.",
            HelpName = "file",
        };
        var exportOnnx = new Option<bool>("--export-onnx")
        {
            Description = "Also write model.onnx (pixels 0-255 in, probabilities out, class names in its metadata) and report ONNX Runtime's test accuracy.",
        };

        var root = new RootCommand("Trains a ResNet with Ghost BatchNorm on a folder of images, evaluates it, saves it, and predicts with it.")
        {
            data, idx, epochs, batchSize, ghostBatchSize, architecture, imageSize, output, seed, compare, pretrained, exportOnnx,
            ExportSubsetCommand.Create(console),
        };
        root.Validators.Add(result =>
        {
            if (result.GetResult(data) is not null && result.GetResult(idx) is not null)
            {
                result.AddError("Use either --data or --idx, not both.");
            }
        });
        root.SetAction((parseResult, cancellationToken) => Task.FromResult(Run(parseResult, () =>
        {
            new SampleRunner(console).Run(
                new SampleSettings
                {
                    DataFolder = parseResult.GetValue(data),
                    IdxFolder = parseResult.GetValue(idx),
                    Epochs = parseResult.GetValue(epochs),
                    BatchSize = parseResult.GetValue(batchSize),
                    GhostBatchSize = parseResult.GetValue(ghostBatchSize),
                    Architecture = parseResult.GetValue(architecture),
                    ImageSize = parseResult.GetValue(imageSize),
                    OutputFolder = parseResult.GetRequiredValue(output),
                    Seed = parseResult.GetValue(seed),
                    Compare = parseResult.GetValue(compare),
                    PretrainedWeightsPath = parseResult.GetValue(pretrained),
                    ExportOnnx = parseResult.GetValue(exportOnnx),
                },
                cancellationToken);
        })));
        return root;
    }

    /// <summary>
    /// Runs an action and turns the failures a user can fix into one line on the error writer and an exit code,
    /// never a stack trace. Anything else is a bug and propagates.
    /// </summary>
    internal static int Run(ParseResult parseResult, Action action)
    {
        try
        {
            action();
            return 0;
        }
        // InvalidDataException is the classifier's "this data cannot be trained on" (e.g. an image that passed the
        // header check but cannot be decoded); its message names the row and the file.
        catch (Exception e) when (e is SampleInputException or InvalidDataException)
        {
            parseResult.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
            return InputErrorExitCode;
        }
        catch (OperationCanceledException)
        {
            parseResult.InvocationConfiguration.Error.WriteLine("Cancelled.");
            return CancelledExitCode;
        }
    }

    private static Option<T> WithDefault<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary>
    /// Makes an integer option parse its own token, so that a value that is not a whole number in
    /// [<paramref name="minimum"/>, <paramref name="maximum"/>] is a parse error (one line) rather than an exception
    /// from the parser's conversion.
    /// </summary>
    internal static Option<int> InRange(int minimum, int maximum, Option<int> option)
    {
        option.CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
            {
                return option.DefaultValueFactory is { } defaultValue ? defaultValue(result) : default;
            }

            var token = result.Tokens[^1].Value;
            if (!int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                || value < minimum || value > maximum)
            {
                result.AddError($"{option.Name} takes a whole number from {minimum} to {maximum}; '{token}' is not one.");
            }

            return value;
        };
        return option;
    }
}
