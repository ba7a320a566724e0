using SkiaSharp;

namespace ImageClassification.Tests;

[TestClass]
public sealed class SampleRunnerTests
{
    [TestMethod]
    public void Trains_evaluates_saves_reloads_and_predicts_on_a_tiny_image_folder()
    {
        using var data = new TempFolder();
        using var output = new TempFolder();
        TinyImages.WriteClasses(data, "", 6, "cat", "dog");
        var notes = data.File("dog/notes.txt");
        File.WriteAllText(notes, "not an image");
        var console = new RecordingConsole();

        var result = new SampleRunner(console.Console).Run(
            OneQuickEpoch(output) with { DataFolder = data.Path, Compare = true }, CancellationToken.None);

        Assert.HasCount(2, result.Runs);
        Assert.IsTrue(File.Exists(Path.Combine(output.Path, SampleRunner.ModelFileName)));
        Assert.IsTrue(File.Exists(Path.Combine(output.Path, SampleRunner.BaselineModelFileName)));
        using (var chart = SKBitmap.Decode(result.ChartPath))
        {
            Assert.IsNotNull(chart, "the chart is not a PNG");
        }

        foreach (var run in result.Runs)
        {
            Assert.HasCount(1, run.History);
            CollectionAssert.AreEqual(new[] { "cat", "dog" }, run.Evaluation.ClassNames.ToArray());
            Assert.IsTrue(run.Evaluation.Metrics.MicroAccuracy is >= 0 and <= 1);
        }

        Assert.HasCount(2, result.Predictions);
        foreach (var prediction in result.Predictions)
        {
            Assert.IsTrue(File.Exists(prediction.ImagePath));
            CollectionAssert.Contains(new[] { "cat", "dog" }, prediction.PredictedLabel);
            Assert.IsTrue(prediction.Confidence is >= 0.5f and <= 1f);
        }

        StringAssert.Contains(console.Output, $"skipped 1 file(s) that are not images in a class folder: {notes}");
        StringAssert.Contains(console.Output, "epoch 1/1");
        StringAssert.Contains(console.Output, "Confusion matrix");
    }

    [TestMethod]
    public void Trains_on_idx_files_through_in_memory_png_images()
    {
        using var idx = new TempFolder();
        using var output = new TempFolder();
        TinyIdx.WriteImageSet(idx, "train", 6, 0, 9);
        TinyIdx.WriteImageSet(idx, "t10k", 2, 0, 9);
        var console = new RecordingConsole();

        var result = new SampleRunner(console.Console).Run(OneQuickEpoch(output) with { IdxFolder = idx.Path }, CancellationToken.None);

        var run = Assert.ContainsSingle(result.Runs);
        CollectionAssert.AreEqual(new[] { "Ankle_boot", "T-shirt_top" }, run.Evaluation.ClassNames.ToArray());
        Assert.HasCount(4, result.Predictions);
        StringAssert.StartsWith(result.Predictions[0].ImagePath, "t10k-images-idx3-ubyte.gz#");
        StringAssert.Contains(console.Output, "12 training and 4 test images, 2 classes");
    }

    // Two ghost batches of two images per step, on the 8×8 test images: seconds per run.
    private static SampleSettings OneQuickEpoch(TempFolder output) => new()
    {
        Epochs = 1,
        BatchSize = 4,
        GhostBatchSize = 2,
        ImageSize = TinyImages.Size,
        OutputFolder = output.Path,
    };
}
