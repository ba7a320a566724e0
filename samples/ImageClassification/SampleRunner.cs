using System.Diagnostics;
using Ghost.ML;
using ImageClassification.Data;
using ImageClassification.Model;
using ImageClassification.Reporting;
using Microsoft.ML;
using Spectre.Console;

namespace ImageClassification;

/// <summary>
/// The whole sample: load the images, train (and with <see cref="SampleSettings.Compare"/> train the plain-BatchNorm
/// baseline too), evaluate, chart the training curves, save the model, load it back and predict a few test images.
/// </summary>
internal sealed class SampleRunner(IAnsiConsole console)
{
    /// <summary>The file name of the saved model in the output folder.</summary>
    public const string ModelFileName = "model.zip";

    /// <summary>The file name of the plain-BatchNorm model that <see cref="SampleSettings.Compare"/> also saves.</summary>
    public const string BaselineModelFileName = "model-batchnorm.zip";

    /// <summary>The file name of the training-curve chart in the output folder.</summary>
    public const string ChartFileName = "training-curves.png";

    private const int PredictionCount = 10;

    /// <summary>Runs the sample and returns what it produced.</summary>
    /// <exception cref="SampleInputException">The data cannot be used; the message says why in one line.</exception>
    public SampleResult Run(SampleSettings settings, CancellationToken cancellationToken)
    {
        if (settings.PretrainedWeightsPath is { } weights && !File.Exists(weights))
        {
            throw new SampleInputException($"Weights file not found: {weights}");
        }

        PrepareOutputFolder(settings.OutputFolder);
        var dataset = LoadDataset(settings);
        var mlContext = new MLContext(settings.Seed);

        List<TrainingRun> runs = [TrainAndEvaluate(mlContext, dataset, settings, ModelFileName, cancellationToken)];
        if (settings.Compare)
        {
            runs.Add(TrainAndEvaluate(mlContext, dataset, settings with { GhostBatchSize = 0 }, BaselineModelFileName, cancellationToken));
            console.Write(new Rule("Ghost BatchNorm vs BatchNorm"));
            EvaluationReport.WriteComparison(console, runs);
        }

        var chartPath = Path.Combine(settings.OutputFolder, ChartFileName);
        TrainingCurveChart.SavePng(runs, chartPath);
        console.MarkupLineInterpolated($"Training curves: [bold]{chartPath}[/]");

        var predictions = PredictWithSavedModel(dataset, runs[0].ModelPath, settings.Seed);
        return new SampleResult(runs, chartPath, predictions);
    }

    /// <summary>Creates the output folder and checks that it takes files, before any time is spent on training.</summary>
    private static void PrepareOutputFolder(string folder)
    {
        if (File.Exists(folder))
        {
            throw new SampleInputException($"--output '{folder}' is a file; give a folder for the model and the chart.");
        }

        try
        {
            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, $".write-check-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleInputException($"--output '{folder}' cannot be written to: {e.Message}");
        }
    }

    private ImageDataset LoadDataset(SampleSettings settings)
    {
        ImageDataset dataset = settings.IdxFolder is { } idxFolder
            ? IdxDataset.Load(idxFolder)
            : ImageFolderReader.Read(settings.DataFolder ?? SampleSettings.EmbeddedDataFolder, settings.Seed);
        if (dataset is ImageFolderDataset { SkippedFiles.Count: > 0 } folder)
        {
            console.MarkupLineInterpolated(
                $"[yellow]warning:[/] skipped {folder.SkippedFiles.Count} file(s) that are not images in a class folder: {string.Join(", ", folder.SkippedFiles)}");
        }

        console.MarkupLineInterpolated(
            $"Data: {dataset.Description}: {dataset.TrainCount} training and {dataset.TestCount} test images, {dataset.ClassNames.Count} classes.");
        return dataset;
    }

    private TrainingRun TrainAndEvaluate(
        MLContext mlContext, ImageDataset dataset, SampleSettings settings, string modelFileName, CancellationToken cancellationToken)
    {
        var name = settings.GhostBatchSize == 0 ? "BatchNorm" : $"Ghost BatchNorm ({settings.GhostBatchSize})";
        console.Write(new Rule(Markup.Escape(
            $"{name}: {settings.Architecture}, {settings.ImageSize}×{settings.ImageSize} images, batch {settings.BatchSize}"
            + (settings.PretrainedWeightsPath is { } weights ? $", from {Path.GetFileName(weights)}" : string.Empty))));

        var history = new List<GhostBatchNormEpochMetrics>();
        var stopwatch = Stopwatch.StartNew();
        using var model = TrainingProgress.Track(console, name, settings.Epochs, report =>
            ImageClassifierModel.Train(mlContext, dataset, settings, metrics =>
            {
                history.Add(metrics);
                report(metrics);
            }, cancellationToken));
        stopwatch.Stop();

        var modelPath = Path.Combine(settings.OutputFolder, modelFileName);
        ImageClassifierModel.SaveModel(mlContext, model, dataset.LoadTrain(mlContext).Schema, modelPath);
        var evaluation = ImageClassifierModel.Evaluate(mlContext, model, dataset.LoadTest(mlContext));
        var run = new TrainingRun(name, history, evaluation, stopwatch.Elapsed, modelPath,
            settings.ExportOnnx ? ExportOnnx(model, modelPath, dataset) : null);
        EvaluationReport.WriteSummary(console, run);
        EvaluationReport.WritePerClass(console, evaluation);
        EvaluationReport.WriteConfusionMatrix(console, evaluation);
        console.MarkupLineInterpolated($"Model saved: [bold]{modelPath}[/]");
        if (run.Onnx is { } onnx)
        {
            console.MarkupLineInterpolated($"ONNX model saved: [bold]{onnx.ModelPath}[/] (input pixels 0-255, output Score; run by ONNX Runtime without libtorch)");
        }

        return run;
    }

    // Next to model.zip, as model.onnx; scored by ONNX Runtime on the test images as a deployment without Ghost.ML would.
    private static OnnxRun ExportOnnx(ITransformer model, string modelPath, ImageDataset dataset)
    {
        var onnxPath = Path.ChangeExtension(modelPath, ".onnx");
        ImageClassifierModel.ExportOnnx(model, onnxPath);
        return new OnnxRun(onnxPath, ImageClassifierModel.OnnxAccuracy(onnxPath, dataset.Test));
    }

    // Predicts as an application would: one ModelInput at a time, from the file alone, through Model Builder's Predict.
    private IReadOnlyList<ImagePrediction> PredictWithSavedModel(ImageDataset dataset, string modelPath, int seed)
    {
        var sample = dataset.Test.ToArray();
        new Random(seed).Shuffle(sample);
        ImageClassifierModel.ModelPath = modelPath;
        List<ImagePrediction> predictions = [.. sample.Take(PredictionCount).Select(image => new ImagePrediction(
            image.Name, image.Input, ImageClassifierModel.Predict(new ModelInput { ImageSource = image.Input.ImageSource })))];
        console.Write(new Rule("Predictions of the reloaded model"));
        PredictionReport.Write(console, $"{predictions.Count} test images, model loaded from {modelPath}", predictions, dataset.DisplayName);
        return predictions;
    }
}

/// <summary>What a run of the sample produced.</summary>
internal sealed record SampleResult(IReadOnlyList<TrainingRun> Runs, string ChartPath, IReadOnlyList<ImagePrediction> Predictions);
