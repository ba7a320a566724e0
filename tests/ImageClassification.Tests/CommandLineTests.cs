using System.CommandLine;
using ImageClassification.Cli;

namespace ImageClassification.Tests;

[TestClass]
public sealed class CommandLineTests
{
    [TestMethod]
    public void Help_lists_the_options()
    {
        var (exitCode, output, _) = Run("--help");

        Assert.AreEqual(0, exitCode);
        foreach (var option in new[] { "--data", "--idx", "--epochs", "--batch-size", "--ghost-batch-size", "--architecture", "--image-size", "--output", "--seed", "--compare", "--pretrained", "--export-onnx" })
        {
            StringAssert.Contains(output, option);
        }
    }

    [TestMethod]
    public void A_missing_data_folder_gives_one_error_line()
    {
        var missing = Path.Combine(Path.GetTempPath(), "ghostml-no-such-folder");

        AssertOneErrorLine($"error: Data folder not found: {missing}", Run("--data", missing));
    }

    [TestMethod]
    public void An_empty_data_folder_gives_one_error_line()
    {
        using var folder = new TempFolder();

        AssertOneErrorLine($"error: No images in {folder.Path}", Run("--data", folder.Path));
    }

    [TestMethod]
    public void A_single_class_gives_one_error_line()
    {
        using var folder = new TempFolder();
        TinyImages.WriteClasses(folder, "", 3, "cat");

        AssertOneErrorLine("error: Only one class ('cat')", Run("--data", folder.Path));
    }

    [TestMethod]
    public void An_unreadable_image_gives_one_error_line()
    {
        using var folder = new TempFolder();
        TinyImages.WriteClasses(folder, "", 3, "cat", "dog");
        var broken = folder.File("cat/broken.jpg");
        File.WriteAllBytes(broken, [0xFF, 0xD8, 0x00]);

        AssertOneErrorLine($"error: Cannot read image {broken}", Run("--data", folder.Path));
    }

    [TestMethod]
    public void A_missing_weights_file_gives_one_error_line()
    {
        var missing = Path.Combine(Path.GetTempPath(), "ghostml-no-such-weights.pth");

        AssertOneErrorLine($"error: Weights file not found: {missing}", Run("--pretrained", missing));
    }

    [TestMethod]
    public void A_file_that_holds_no_weights_gives_one_error_line()
    {
        using var folder = new TempFolder();
        using var other = new TempFolder();
        TinyImages.WriteClasses(folder, "", 3, "cat", "dog");
        var notes = other.File("notes.pth");
        File.WriteAllText(notes, "no weights here");

        AssertOneErrorLine($"error: '{notes}' is not a TorchSharp state_dict",
            Run("--data", folder.Path, "--pretrained", notes, "--epochs", "1", "--output", other.File("out")));
    }

    [TestMethod]
    public void A_missing_idx_folder_gives_one_error_line()
    {
        var missing = Path.Combine(Path.GetTempPath(), "ghostml-no-such-folder");

        AssertOneErrorLine($"error: IDX folder not found: {missing}", Run("--idx", missing));
    }

    [TestMethod]
    [DataRow("--epochs", "0", "error: --epochs takes a whole number from 1 to 100000; '0' is not one.")]
    [DataRow("--epochs", "abc", "error: --epochs takes a whole number from 1 to 100000; 'abc' is not one.")]
    [DataRow("--epochs", "99999999999", "error: --epochs takes a whole number from 1 to 100000; '99999999999' is not one.")]
    [DataRow("--batch-size", "0", "error: --batch-size takes a whole number from 1 to 65536; '0' is not one.")]
    [DataRow("--batch-size", "1.5", "error: --batch-size takes a whole number from 1 to 65536; '1.5' is not one.")]
    [DataRow("--ghost-batch-size", "-1", "error: --ghost-batch-size takes a whole number from 0 to 65536; '-1' is not one.")]
    [DataRow("--image-size", "4", "error: --image-size takes a whole number from 8 to 1024; '4' is not one.")]
    [DataRow("--image-size", "1e3", "error: --image-size takes a whole number from 8 to 1024; '1e3' is not one.")]
    [DataRow("--image-size", "100000", "error: --image-size takes a whole number from 8 to 1024; '100000' is not one.")]
    [DataRow("--seed", "x", "error: --seed takes a whole number from 0 to 2147483647; 'x' is not one.")]
    public void An_invalid_option_value_is_reported_without_the_help_text(string option, string value, string message)
    {
        var (exitCode, output, error) = Run(option, value);

        Assert.AreEqual(SampleCommandLine.InputErrorExitCode, exitCode);
        Assert.AreEqual(message, error.Trim());
        Assert.AreEqual("", output.Trim());
    }

    [TestMethod]
    public void Data_and_idx_together_are_refused()
    {
        var (exitCode, _, error) = Run("--data", "a", "--idx", "b");

        Assert.AreEqual(SampleCommandLine.InputErrorExitCode, exitCode);
        Assert.AreEqual("error: Use either --data or --idx, not both.", error.Trim());
    }

    [TestMethod]
    public void An_output_path_that_is_a_file_is_refused_before_training()
    {
        using var folder = new TempFolder();
        var file = folder.File("model.zip");
        File.WriteAllText(file, "");

        AssertOneErrorLine($"error: --output '{file}' is a file", Run("--output", file));
    }

    [TestMethod]
    public void An_output_folder_that_cannot_be_created_is_refused_before_training()
    {
        using var folder = new TempFolder();
        var file = folder.File("taken");
        File.WriteAllText(file, "");
        var inside = Path.Combine(file, "output");

        AssertOneErrorLine($"error: --output '{inside}' cannot be written to", Run("--output", inside));
    }

    [TestMethod]
    public void Export_subset_writes_the_first_images_of_each_class_as_png()
    {
        using var idx = new TempFolder();
        using var target = new TempFolder();
        TinyIdx.WriteImageSet(idx, "train", 3, 0, 9);
        TinyIdx.WriteImageSet(idx, "t10k", 2, 0, 9);

        var (exitCode, output, _) = Run(
            "export-subset", "--idx", idx.Path, "--to", target.Path, "--train-per-class", "2", "--test-per-class", "1");

        Assert.AreEqual(0, exitCode);
        StringAssert.Contains(output, "Wrote 6 PNG files");
        // Labels alternate 0, 9, 0, 9, ...: files are named by their index in the IDX file.
        CollectionAssert.AreEquivalent(
            new[] { "train/Ankle_boot/00001.png", "train/Ankle_boot/00003.png", "train/T-shirt_top/00000.png",
                "train/T-shirt_top/00002.png", "test/Ankle_boot/00001.png", "test/T-shirt_top/00000.png" },
            Directory.EnumerateFiles(target.Path, "*.png", SearchOption.AllDirectories)
                .Select(file => Path.GetRelativePath(target.Path, file).Replace('\\', '/')).ToArray());
    }

    private static void AssertOneErrorLine(string expectedStart, (int ExitCode, string Output, string Error) result)
    {
        Assert.AreEqual(SampleCommandLine.InputErrorExitCode, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(1, lines, result.Error);
        StringAssert.StartsWith(lines[0], expectedStart);
    }

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var console = new RecordingConsole();
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = SampleCommandLine.Invoke(args, console.Console, new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output + console.Output, error.ToString());
    }
}
