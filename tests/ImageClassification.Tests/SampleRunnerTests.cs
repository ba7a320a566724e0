using ImageClassification.Model;
using Microsoft.ML;
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
            Assert.IsTrue(File.Exists(prediction.ImageName));
            CollectionAssert.Contains(new[] { "cat", "dog" }, prediction.Output.PredictedLabel);
            Assert.IsTrue(prediction.Output.Confidence is >= 0.5f and <= 1f);
        }

        AssertTheModelFileIsTheWholePipeline(Path.Combine(output.Path, SampleRunner.ModelFileName), result);

        StringAssert.Contains(console.Output, $"skipped 1 file(s) that are not images in a class folder: {notes}");
        StringAssert.Contains(console.Output, "epoch 1/1");
        StringAssert.Contains(console.Output, "Confusion matrix");
    }

    [TestMethod]
    public void Continues_training_from_the_model_file_of_an_earlier_run()
    {
        using var data = new TempFolder();
        using var first = new TempFolder();
        using var second = new TempFolder();
        TinyImages.WriteClasses(data, "", 6, "cat", "dog");
        new SampleRunner(new RecordingConsole().Console).Run(OneQuickEpoch(first) with { DataFolder = data.Path }, CancellationToken.None);
        var console = new RecordingConsole();

        var result = new SampleRunner(console.Console).Run(
            OneQuickEpoch(second) with { DataFolder = data.Path, PretrainedWeightsPath = Path.Combine(first.Path, SampleRunner.ModelFileName) },
            CancellationToken.None);

        Assert.HasCount(1, result.Runs);
        StringAssert.Contains(console.Output, $"from {SampleRunner.ModelFileName}");
        Assert.IsTrue(File.Exists(Path.Combine(second.Path, SampleRunner.ModelFileName)));
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
        StringAssert.StartsWith(result.Predictions[0].ImageName, "t10k-images-idx3-ubyte.gz#");
        AssertTheModelFileIsTheWholePipeline(Path.Combine(output.Path, SampleRunner.ModelFileName), result);
        StringAssert.Contains(console.Output, "12 training and 4 test images, 2 classes");
    }

    [TestMethod]
    public void Export_onnx_writes_model_onnx_whose_test_accuracy_through_onnx_runtime_is_the_transformers()
    {
        using var data = new TempFolder();
        using var output = new TempFolder();
        TinyImages.WriteClasses(data, "", 6, "cat", "dog");
        var console = new RecordingConsole();

        var result = new SampleRunner(console.Console).Run(
            OneQuickEpoch(output) with { DataFolder = data.Path, Compare = true, ExportOnnx = true }, CancellationToken.None);

        Assert.AreEqual(Path.Combine(output.Path, "model.onnx"), result.Runs[0].Onnx?.ModelPath);
        Assert.AreEqual(Path.Combine(output.Path, "model-batchnorm.onnx"), result.Runs[1].Onnx?.ModelPath);
        foreach (var run in result.Runs)
        {
            Assert.IsTrue(File.Exists(run.Onnx!.ModelPath));
            Assert.AreEqual(run.Evaluation.Metrics.MicroAccuracy, run.Onnx.TestAccuracy, 1e-9, $"{run.Name}: the same test images classified the same");
        }

        StringAssert.Contains(console.Output, "Micro accuracy, ONNX Runtime");
        StringAssert.Contains(console.Output, "ONNX model saved");
    }

    /// <summary>
    /// model.zip alone, in a fresh MLContext, maps ModelInput (Label, ImageSource) to ModelOutput, and gives the
    /// sample's predictions bit for bit (which also shows the sample predicted with this run's model).
    /// </summary>
    private static void AssertTheModelFileIsTheWholePipeline(string modelPath, SampleResult result)
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(modelPath, out var inputSchema);
        CollectionAssert.AreEqual(new[] { ColumnNames.Label, ColumnNames.ImageSource }, inputSchema.Select(column => column.Name).ToArray());
        var engine = mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
        foreach (var prediction in result.Predictions)
        {
            var again = engine.Predict(new ModelInput { ImageSource = prediction.Image.ImageSource });
            Assert.AreEqual(prediction.Output.PredictedLabel, again.PredictedLabel);
            CollectionAssert.AreEqual(prediction.Output.Score, again.Score);
        }
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
