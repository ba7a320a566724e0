using System.Text.Json;
using Ghost.ML.Tests.Estimators;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Tests.Export;

/// <summary>
/// transformer.SaveAsOnnx: the exported graph, fed what the user has (decoded pixels or the feature vector), gives
/// the transformer's probabilities through ONNX Runtime, and carries the class names.
/// </summary>
[TestClass]
public sealed class ClassifierOnnxExportTests : SingleThreadedTorchTests
{
    private const int Size = 8;

    [TestMethod]
    [DataRow(false, 3, DisplayName = "RGB")]
    [DataRow(true, 1, DisplayName = "grey")]
    public void ImageClassifierScoresItsTestSplitTheSameThroughOnnxRuntime(bool allGrey, int channels)
    {
        using var images = new TestImageFolder(imagesPerClass: 12, allGrey: allGrey);
        var mlContext = new MLContext(seed: 1);
        var rows = mlContext.Data.LoadFromEnumerable(images.Rows);
        var data = mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.Transforms.LoadRawImageBytes("Features", images.Path, nameof(ImageRow.ImagePath)))
            .Fit(rows).Transform(rows);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.3, seed: 1);
        using var model = new GhostBatchNormImageClassifier(mlContext, TestPipelines.FastOptions(epochs: 1)).Fit(split.TrainSet);
        var scored = model.Transform(split.TestSet);
        var expected = TestPipelines.Scores(scored);
        var labels = scored.GetColumn<uint>("Label").Select(key => (int)key - 1).ToArray();

        using var session = new InferenceSession(OnnxScoring.Export(model));
        CollectionAssert.AreEqual(new[] { -1, channels, Size, Size }, session.InputMetadata["input"].Dimensions, "input [N, C, H, W]");
        var encoded = split.TestSet.GetColumn<byte[]>("Features").ToList();
        var actual = OnnxScoring.Run(session, OnnxScoring.Pixels(encoded, channels, Size, Size), [encoded.Count, channels, Size, Size]);

        TestPipelines.AssertSameScores(expected, actual, "ONNX Runtime against the transformer", tolerance: 1e-4f);
        CollectionAssert.AreEqual(OnnxScoring.ArgMax(expected), OnnxScoring.ArgMax(actual), "predicted classes");
        Assert.AreEqual(Accuracy(expected, labels), Accuracy(actual, labels), "test accuracy");
        VBuffer<ReadOnlyMemory<char>> slotNames = default;
        scored.Schema["Score"].GetSlotNames(ref slotNames);
        var metadata = session.ModelMetadata.CustomMetadataMap;
        CollectionAssert.AreEqual(slotNames.DenseValues().Select(name => name.ToString()).ToArray(), JsonSerializer.Deserialize<string[]>(metadata["ghostml.class_names"]), "class names, in Score's order");
        Assert.AreEqual("pixels_0_255", metadata["ghostml.input"]);
        Assert.AreEqual("String", metadata["ghostml.label_type"]);
        Assert.AreEqual("Label", metadata["ghostml.label_column"]);
        Assert.AreEqual("Features", metadata["ghostml.feature_column"]);
    }

    [TestMethod]
    public void TrainerModelsTakeTheFeatureVectorReshapedToTheirSampleShape()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = TestVectors.Rows(rowsPerClass: 8);
        var data = GhostBatchNormTrainerTests.KeyedPixels(mlContext, rows);
        var features = rows.SelectMany(row => row.Features).ToArray();
        var flat = GhostBatchNormTrainerTests.FastOptions();
        flat.Epoch = 1;
        var image = GhostBatchNormTrainerTests.FastOptions();
        image.Epoch = 1;
        image.FeatureShape = [1, Size, Size];

        foreach (var (factory, options, shape) in new (Func<int, nn.Module<Tensor, Tensor>>, GhostBatchNormTrainer.Options, long[])[]
        {
            (GhostBatchNormTrainerTests.SmallModel, flat, [PixelRow.Size]),
            (ConvModel, image, [1, Size, Size]),
        })
        {
            using var model = new GhostBatchNormTrainer(mlContext, factory, options).Fit(data);
            var expected = TestPipelines.Scores(model.Transform(data));

            using var session = new InferenceSession(OnnxScoring.Export(model));
            CollectionAssert.AreEqual(new[] { -1 }.Concat(shape.Select(size => (int)size)).ToArray(), session.InputMetadata["input"].Dimensions, "input [N, ..shape]");
            var actual = OnnxScoring.Run(session, features, [rows.Count, .. shape]);

            TestPipelines.AssertSameScores(expected, actual, $"[{string.Join(", ", shape)}]", tolerance: 1e-4f);
            CollectionAssert.AreEqual(OnnxScoring.ArgMax(expected), OnnxScoring.ArgMax(actual), "predicted classes");
            Assert.AreEqual("feature_vector", session.ModelMetadata.CustomMetadataMap["ghostml.input"]);
            CollectionAssert.AreEqual(new[] { "top", "bottom" }, JsonSerializer.Deserialize<string[]>(session.ModelMetadata.CustomMetadataMap["ghostml.class_names"]));
        }
    }

    [TestMethod]
    public void AnUnsupportedModuleThrowsAndWritesNothing()
    {
        using var model = TrainOneEpoch(classes => nn.Sequential(nn.Linear(PixelRow.Size, 8), nn.Tanh(), nn.Linear(8, classes)));
        string path = Path.Combine(Path.GetTempPath(), $"ghostml-{Guid.NewGuid():N}.onnx");

        var error = Assert.ThrowsExactly<NotSupportedException>(() => model.SaveAsOnnx(path));

        StringAssert.Contains(error.Message, "Tanh");
        Assert.IsFalse(File.Exists(path), "nothing written");
    }

    [TestMethod]
    public void BadArgumentsAreRefused()
    {
        var model = TrainOneEpoch(GhostBatchNormTrainerTests.SmallModel);
        using var readOnly = new MemoryStream([], writable: false);

        Assert.AreEqual("stream", Assert.ThrowsExactly<ArgumentException>(() => model.SaveAsOnnx(readOnly)).ParamName);
        Assert.AreEqual("path", Assert.Throws<ArgumentException>(() => model.SaveAsOnnx(" ")).ParamName);
        model.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => model.SaveAsOnnx(new MemoryStream()));
    }

    /// <summary>A GhostBatchNormTrainer model of <paramref name="factory"/> after one epoch on a few pixel vectors.</summary>
    private static GhostBatchNormClassificationTransformer TrainOneEpoch(Func<int, nn.Module<Tensor, Tensor>> factory)
    {
        var mlContext = new MLContext(seed: 1);
        var data = GhostBatchNormTrainerTests.KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 4));
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.Epoch = 1;
        return new GhostBatchNormTrainer(mlContext, factory, options).Fit(data);
    }

    private static nn.Module<Tensor, Tensor> ConvModel(int classes) =>
        nn.Sequential(nn.Conv2d(1, 4, 3, padding: 1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, classes));

    private static double Accuracy(float[][] scores, int[] labels) =>
        OnnxScoring.ArgMax(scores).Zip(labels).Count(pair => pair.First == pair.Second) / (double)labels.Length;
}
