using System.Globalization;
using Ghost.ML.Tests.Estimators;
using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;

namespace Ghost.ML.Tests.Export;

/// <summary>
/// Writes the assets of tests/OnnxConsumption.Tests, the ML.NET-only consumption example: a small exported image
/// classifier (model.onnx), a few PNGs it has not seen, and expected.tsv with each image's true label and the
/// transformer's prediction and probabilities. To regenerate the committed assets, from the repository root:
/// <c>GHOSTML_ONNX_ASSETS=$PWD/tests/OnnxConsumption.Tests/Assets dotnet test tests/Ghost.ML.Tests -c Release --filter ConsumptionAssets</c>.
/// Without the variable it writes to a temporary folder and checks the result.
/// </summary>
[TestClass]
public sealed class ConsumptionAssetsTests : SingleThreadedTorchTests
{
    /// <summary>Width and height of the classifier's input.</summary>
    private const int Size = 16;

    [TestMethod]
    public void WritesTheConsumptionAssets()
    {
        string? target = Environment.GetEnvironmentVariable("GHOSTML_ONNX_ASSETS");
        string folder = target ?? Directory.CreateTempSubdirectory("ghostml-onnx-assets-").FullName;
        try
        {
            Write(folder);

            Assert.IsLessThan(2_000_000L, new FileInfo(Path.Combine(folder, "model.onnx")).Length, "a small model to commit");
            var lines = File.ReadAllLines(Path.Combine(folder, "expected.tsv"));
            Assert.HasCount(9, lines, "a header and eight images");
            Assert.IsTrue(lines.Skip(1).All(line => File.Exists(Path.Combine(folder, "images", line.Split('\t')[0]))), "every image listed is there");
        }
        finally
        {
            if (target is null)
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static void Write(string folder)
    {
        using var training = new TestImageFolder(imagesPerClass: 16, seed: 1);
        using var unseen = new TestImageFolder(imagesPerClass: 8, seed: 2);
        var mlContext = new MLContext(seed: 1);
        var options = TestPipelines.FastOptions(epochs: 8);
        options.ImageWidth = Size;
        options.ImageHeight = Size;
        var load = mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.Transforms.LoadRawImageBytes("Features", training.Path, nameof(ImageRow.ImagePath)));
        var rows = mlContext.Data.LoadFromEnumerable(training.Rows);
        var keyMapping = load.Fit(rows);
        using var model = new GhostBatchNormImageClassifier(mlContext, options).Fit(keyMapping.Transform(rows));

        // Written as PNG (lossless), so that the consumer decodes exactly the pixels the classifier decoded.
        var imageFolder = Directory.CreateDirectory(Path.Combine(folder, "images")).FullName;
        var images = unseen.Rows.Take(8).Select(row => new ImageRow { ImagePath = Path.ChangeExtension(row.ImagePath, ".png"), Label = row.Label }).ToList();
        foreach (var (source, image) in unseen.Rows.Zip(images))
        {
            using var bitmap = SKBitmap.Decode(Path.Combine(unseen.Path, source.ImagePath));
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(imageFolder, image.ImagePath), png.ToArray());
        }

        var scored = model.Transform(mlContext.Transforms.LoadRawImageBytes("Features", imageFolder, nameof(ImageRow.ImagePath))
            .Fit(mlContext.Data.LoadFromEnumerable(images)).Transform(mlContext.Data.LoadFromEnumerable(images)));
        var predicted = mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(scored).Transform(scored);
        var labels = predicted.GetColumn<string>("PredictedLabel").ToList();
        var scores = TestPipelines.Scores(predicted);
        var lines = images.Select((row, i) => string.Join('\t', row.ImagePath, row.Label, labels[i],
            string.Join(',', scores[i].Select(score => score.ToString("R", CultureInfo.InvariantCulture)))));
        File.WriteAllLines(Path.Combine(folder, "expected.tsv"), ["file\tlabel\tpredicted\tscores", .. lines]);
        model.SaveAsOnnx(Path.Combine(folder, "model.onnx"));
    }
}
