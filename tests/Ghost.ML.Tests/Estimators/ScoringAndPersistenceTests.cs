using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Tests.Estimators;

/// <summary>Scoring paths and save/load of one image classifier trained once for the class.</summary>
[TestClass]
public sealed class ScoringAndPersistenceTests : SingleThreadedTorchTests
{
    private static TestImageFolder s_images = null!;
    private static MLContext s_mlContext = null!;
    private static IDataView s_data = null!;
    private static GhostBatchNormClassificationTransformer s_classifier = null!;
    private static float[][] s_scores = null!;

    [ClassInitialize]
    public static void TrainOnce(TestContext context)
    {
        s_images = new TestImageFolder(imagesPerClass: 10);
        s_mlContext = new MLContext(seed: 1);
        var rows = s_mlContext.Data.LoadFromEnumerable(s_images.Rows);
        s_data = s_mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(s_mlContext.Transforms.LoadRawImageBytes("Features", s_images.Path, nameof(ImageRow.ImagePath)))
            .Fit(rows).Transform(rows);
        s_classifier = new GhostBatchNormImageClassifier(s_mlContext, TestPipelines.FastOptions(epochs: 1)).Fit(s_data);
        s_scores = TestPipelines.Scores(s_classifier.Transform(s_data));
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        s_classifier.Dispose();
        s_images.Dispose();
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    [DataRow(64)]
    public void ScoringBatchSizeDoesNotChangeScores(int batchSize)
    {
        int original = s_classifier.ScoringBatchSize;
        s_classifier.ScoringBatchSize = batchSize;
        try
        {
            TestPipelines.AssertSameScores(s_scores, TestPipelines.Scores(s_classifier.Transform(s_data)), $"batch {batchSize}");
        }
        finally
        {
            s_classifier.ScoringBatchSize = original;
        }
    }

    [TestMethod]
    public void PredictionEngineAgreesWithBatchScoring()
    {
        var rows = s_data.GetColumn<byte[]>("Features").ToList();
        var inputSchema = s_mlContext.Data.LoadFromEnumerable(Array.Empty<ImageInput>()).Schema;
        var engine = s_mlContext.Model.CreatePredictionEngine<ImageInput, ImageOutput>(s_classifier, inputSchema);
        for (int i = 0; i < rows.Count; i++)
        {
            var prediction = engine.Predict(new ImageInput { Features = rows[i] });
            TestPipelines.AssertSameScores([s_scores[i]], [prediction.Score], $"row {i}");
            Assert.AreEqual((uint)Array.IndexOf(s_scores[i], s_scores[i].Max()) + 1, prediction.PredictedLabel, $"row {i}");
        }
    }

    [TestMethod]
    public void TransformIsSafeFromSeveralThreads()
    {
        var results = new float[4][][];
        Parallel.For(0, results.Length, i => results[i] = TestPipelines.Scores(s_classifier.Transform(s_data)));
        foreach (var result in results)
        {
            TestPipelines.AssertSameScores(s_scores, result, "parallel Transform");
        }
    }

    [TestMethod]
    public void OutputSchemaCarriesScoreAndKeyAnnotations()
    {
        var schema = s_classifier.GetOutputSchema(s_data.Schema);
        var score = schema["Score"];
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 2), score.Type);
        VBuffer<ReadOnlyMemory<char>> slotNames = default;
        score.GetSlotNames(ref slotNames);
        CollectionAssert.AreEqual(new[] { "top", "bottom" }, slotNames.DenseValues().Select(name => name.ToString()).ToArray());
        var predicted = schema["PredictedLabel"];
        Assert.AreEqual(new KeyDataViewType(typeof(uint), 2), predicted.Type);
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        predicted.GetKeyValues(ref keyValues);
        Assert.AreEqual("bottom", keyValues.GetItemOrDefault(1).ToString());
    }

    [TestMethod]
    public void SaveAndLoadGiveIdenticalScores()
    {
        string folder = Directory.CreateTempSubdirectory("ghostml-model-").FullName;
        try
        {
            string path = Path.Combine(folder, "model.zip");
            s_classifier.Save(path);
            CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(folder), "only the model file is left");
            using var loaded = GhostBatchNormClassificationTransformer.Load(s_mlContext, path);
            TestPipelines.AssertSameScores(s_scores, TestPipelines.Scores(loaded.Transform(s_data)), "loaded from file", tolerance: 0);

            using var stream = new MemoryStream();
            s_classifier.Save(stream);
            stream.Position = 0;
            using var fromStream = GhostBatchNormClassificationTransformer.Load(s_mlContext, stream);
            TestPipelines.AssertSameScores(s_scores, TestPipelines.Scores(fromStream.Transform(s_data)), "loaded from stream", tolerance: 0);
            Assert.AreEqual(s_classifier.ScoringBatchSize, fromStream.ScoringBatchSize);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void LoadPicksTheDeviceByFitsRule()
    {
        using var stream = new MemoryStream();
        s_classifier.Save(stream);
        stream.Position = 0;
        var error = Assert.Throws<ArgumentException>(() => GhostBatchNormClassificationTransformer.Load(s_mlContext, stream, device: "tpu"));
        Assert.AreEqual("device", error.ParamName);

        stream.Position = 0;
        using var onCpu = GhostBatchNormClassificationTransformer.Load(s_mlContext, stream, device: "cpu");
        Assert.AreEqual(TorchSharp.DeviceType.CPU, onCpu.Classifier.Device.type);
        TestPipelines.AssertSameScores(s_scores, TestPipelines.Scores(onCpu.Transform(s_data)), "loaded on the CPU", tolerance: 0);
        if (!TorchSharp.torch.cuda.is_available())
        {
            stream.Position = 0;
            Assert.ThrowsExactly<InvalidOperationException>(() => GhostBatchNormClassificationTransformer.Load(s_mlContext, stream, device: "cuda"));
        }
    }

    [TestMethod]
    public void LoadingSomethingElseThrowsInvalidData()
    {
        using var notAZip = new MemoryStream([1, 2, 3, 4]);
        Assert.ThrowsExactly<InvalidDataException>(() => GhostBatchNormClassificationTransformer.Load(s_mlContext, notAZip));

        using var emptyZip = new MemoryStream();
        new System.IO.Compression.ZipArchive(emptyZip, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true).Dispose();
        emptyZip.Position = 0;
        Assert.ThrowsExactly<InvalidDataException>(() => GhostBatchNormClassificationTransformer.Load(s_mlContext, emptyZip));
    }

    [TestMethod]
    public void LoadingANewerFormatSaysSo()
    {
        using var newer = WithManifest(manifest => manifest["FormatVersion"] = 99);
        var error = Assert.ThrowsExactly<NotSupportedException>(() => GhostBatchNormClassificationTransformer.Load(s_mlContext, newer));
        StringAssert.Contains(error.Message, "format version 99");
    }

    [TestMethod]
    [DataRow("SampleShape", null, "sample shape []")]
    [DataRow("SampleShape", "[3, 8]", "image shape [3, 8]")]
    [DataRow("SampleShape", "[3, 8, 0]", "sample shape [3, 8, 0]")]
    [DataRow("ChannelStd", "[0, 1, 1]", "standard deviation")]
    [DataRow("ChannelStd", "[-1, 1, 1]", "standard deviation")]
    [DataRow("ChannelStd", "[1, 1]", "channel statistics for 3 and 2 channels")]
    [DataRow("ChannelMean", null, "channel statistics for  and 3 channels")]
    [DataRow("LabelValueType", "\"Single\"", "label value 'top', which is not a Single")]
    [DataRow("LabelValueType", "\"Guid\"", "label value type 'Guid'")]
    [DataRow("LabelValues", "[\"top\"]", "2 classes and 1 label values")]
    public void DamagedManifestIsRefusedAtLoad(string field, string? json, string expected)
    {
        using var damaged = WithManifest(manifest => manifest[field] = json is null ? null : System.Text.Json.Nodes.JsonNode.Parse(json));
        var error = Assert.ThrowsExactly<InvalidDataException>(() => GhostBatchNormClassificationTransformer.Load(s_mlContext, damaged));
        StringAssert.Contains(error.Message, expected, error.Message);
    }

    /// <summary>The trained classifier saved, with its manifest.json changed by <paramref name="edit"/>.</summary>
    private static MemoryStream WithManifest(Action<System.Text.Json.Nodes.JsonNode> edit)
    {
        using var stream = new MemoryStream();
        s_classifier.Save(stream);
        var edited = new MemoryStream();
        using (var source = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Read))
        using (var target = new System.IO.Compression.ZipArchive(edited, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                using var input = entry.Open();
                using var output = target.CreateEntry(entry.FullName).Open();
                if (entry.FullName == "manifest.json")
                {
                    var manifest = System.Text.Json.Nodes.JsonNode.Parse(input)!;
                    edit(manifest);
                    using var writer = new System.Text.Json.Utf8JsonWriter(output);
                    manifest.WriteTo(writer);
                }
                else
                {
                    input.CopyTo(output);
                }
            }
        }

        edited.Position = 0;
        return edited;
    }

    public sealed class ImageInput
    {
        public byte[] Features { get; set; } = [];
    }

    public sealed class ImageOutput
    {
        public float[] Score { get; set; } = [];

        public uint PredictedLabel { get; set; }
    }
}
