using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace OnnxConsumption.Tests;

/// <summary>
/// Scores the committed exported classifier (Assets/model.onnx) on the committed images with stock ML.NET only, and
/// checks the result against what Ghost.ML's own transformer gave on the same files (Assets/expected.tsv).
/// </summary>
[TestClass]
public sealed class OnnxConsumptionTests
{
    /// <summary>
    /// How far the probabilities may differ from Ghost.ML's transformer. Not float rounding: ML.NET's ResizeImages
    /// samples the nearest pixel (it gives exactly SkiaSharp's SKFilterMode.Nearest), Ghost.ML's decoder filters with
    /// Mitchell's cubic. On the committed images the resized pixels differ by 7 of 255 on average (87 at most, at the
    /// edges between the bright and dark halves) and the probabilities by 0.17 at most; the predicted classes agree.
    /// </summary>
    private const float ResizeTolerance = 0.25f;

    private static readonly string Assets = Path.Combine(AppContext.BaseDirectory, "Assets");
    private static readonly string ModelPath = Path.Combine(Assets, "model.onnx");
    private static readonly string ImageFolder = Path.Combine(Assets, "images");

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void AnMLNetPipelineScoresTheExportedModelLikeGhostML()
    {
        var (mlContext, model, expected, data) = Setup();

        var scored = ImagePipeline.Create(mlContext, ImageFolder, ModelPath, model).Fit(data).Transform(data);
        var scores = scored.GetColumn<float[]>("Score").ToList();

        CollectionAssert.AreEquivalent(new[] { "top", "bottom" }, model.ClassNames.ToArray(), "class names from the model's metadata");
        Assert.HasCount(expected.Count, scores);
        float largest = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.HasCount(model.ClassNames.Count, scores[i], $"{expected[i].File}: one probability per class");
            Assert.AreEqual(1, scores[i].Sum(), 1e-4, $"{expected[i].File}: probabilities");
            Assert.AreEqual(expected[i].Predicted, model.Predict(scores[i]), $"{expected[i].File}: the class Ghost.ML predicted");
            largest = Math.Max(largest, scores[i].Zip(expected[i].Scores).Max(pair => Math.Abs(pair.First - pair.Second)));
        }

        TestContext.WriteLine($"Largest difference from Ghost.ML's probabilities (ResizeImages against Ghost.ML's decoder): {largest:G3}");
        Assert.IsLessThanOrEqualTo(ResizeTolerance, largest, "probabilities close to Ghost.ML's");
    }

    [TestMethod]
    public void TheFittedChainSavesAndLoadsWithModelSave()
    {
        var (mlContext, model, _, data) = Setup();
        var chain = ImagePipeline.Create(mlContext, ImageFolder, ModelPath, model).Fit(data);
        var before = chain.Transform(data).GetColumn<float[]>("Score").ToList();

        using var stream = new MemoryStream();
        mlContext.Model.Save(chain, data.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(stream, out var schema);
        var after = loaded.Transform(data).GetColumn<float[]>("Score").ToList();

        Assert.AreEqual(data.Schema.Count, schema.Count, "the input schema comes back");
        for (int i = 0; i < before.Count; i++)
        {
            CollectionAssert.AreEqual(before[i], after[i], $"row {i}: the loaded chain (the ONNX model is inside the zip) scores the same");
        }
    }

    [TestMethod]
    public void PredictionEngineScoresOneImageAtATime()
    {
        var (mlContext, model, expected, data) = Setup();
        var chain = ImagePipeline.Create(mlContext, ImageFolder, ModelPath, model).Fit(data);
        var batch = chain.Transform(data).GetColumn<float[]>("Score").ToList();

        using var engine = mlContext.Model.CreatePredictionEngine<ImageInput, ScoreOutput>(chain);
        for (int i = 0; i < expected.Count; i++)
        {
            var score = engine.Predict(new ImageInput { ImagePath = expected[i].File }).Score;
            CollectionAssert.AreEqual(batch[i], score, $"{expected[i].File}: the same as in a data view");
            Assert.AreEqual(expected[i].Predicted, model.Predict(score));
        }
    }

    /// <summary>A context, the exported model's description, the expected results and the images to score.</summary>
    private static (MLContext MLContext, ExportedClassifier Model, List<ExpectedRow> Expected, IDataView Data) Setup()
    {
        var mlContext = new MLContext(seed: 1);
        var expected = Expected();
        var data = mlContext.Data.LoadFromEnumerable(expected.Select(row => new ImageInput { ImagePath = row.File }));
        return (mlContext, ExportedClassifier.Read(ModelPath), expected, data);
    }

    private sealed record ExpectedRow(string File, string Label, string Predicted, float[] Scores);

    /// <summary>Assets/expected.tsv: file, true label, Ghost.ML's prediction and probabilities.</summary>
    private static List<ExpectedRow> Expected() =>
    [
        .. File.ReadLines(Path.Combine(Assets, "expected.tsv")).Skip(1).Select(line => line.Split('\t')).Select(fields =>
            new ExpectedRow(fields[0], fields[1], fields[2], [.. fields[3].Split(',').Select(value => float.Parse(value, CultureInfo.InvariantCulture))])),
    ];
}
