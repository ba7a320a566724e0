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
        foreach (var option in new[] { "--data", "--idx", "--epochs", "--batch-size", "--ghost-batch-size", "--architecture", "--image-size", "--output", "--seed", "--compare" })
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
    public void A_missing_idx_folder_gives_one_error_line()
    {
        var missing = Path.Combine(Path.GetTempPath(), "ghostml-no-such-folder");

        AssertOneErrorLine($"error: IDX folder not found: {missing}", Run("--idx", missing));
    }

    [TestMethod]
    [DataRow("--epochs", "0", "--epochs must be at least 1.")]
    [DataRow("--batch-size", "0", "--batch-size must be at least 1.")]
    [DataRow("--ghost-batch-size", "-1", "--ghost-batch-size must be at least 0.")]
    [DataRow("--image-size", "4", "--image-size must be at least 8.")]
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
        Assert.AreEqual("Use either --data or --idx, not both.", error.Trim());
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
