using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using Ghost.ML.Tests.Estimators;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Tests.Persistence;

/// <summary>mlContext.Model.Save / Model.Load of whole chains that contain the classifier.</summary>
[TestClass]
public sealed class MLNetModelFileTests : SingleThreadedTorchTests
{
    private static TestImageFolder s_images = null!;
    private static IDataView s_rows = null!;
    private static TransformerChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> s_model = null!;
    private static float[][] s_scores = null!;

    [ClassInitialize]
    public static void TrainOnce(TestContext context)
    {
        s_images = new TestImageFolder(imagesPerClass: 6);
        var mlContext = new MLContext(seed: 1);
        s_rows = mlContext.Data.LoadFromEnumerable(s_images.Rows);
        s_model = TestPipelines.Canonical(mlContext, s_images.Path, TestPipelines.FastOptions(epochs: 1)).Fit(s_rows);
        s_scores = TestPipelines.Scores(s_model.Transform(s_rows));
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        s_model.Dispose();
        s_images.Dispose();
    }

    [TestMethod]
    public void ChainRoundTripsThroughAFileWithIdenticalScores()
    {
        string path = Path.Combine(s_images.Path, "chain.zip");
        new MLContext().Model.Save(s_model, s_rows.Schema, path);

        var mlContext = new MLContext();
        var loaded = mlContext.Model.Load(path, out var inputSchema);

        Assert.AreEqual(s_rows.Schema.Count, inputSchema.Count);
        TestPipelines.AssertSameScores(s_scores, TestPipelines.Scores(loaded.Transform(s_rows)), "loaded from a file", tolerance: 0);
        ((IDisposable)loaded).Dispose();
    }

    [TestMethod]
    public void ChainRoundTripsThroughAStreamAndScoresLikeTheOriginal()
    {
        using var stream = new MemoryStream();
        new MLContext().Model.Save(s_model, s_rows.Schema, stream);
        stream.Position = 0;

        var mlContext = new MLContext();
        var loaded = mlContext.Model.Load(stream, out _);
        var scored = loaded.Transform(s_rows);

        TestPipelines.AssertSameScores(s_scores, TestPipelines.Scores(scored), "loaded from a stream", tolerance: 0);
        var metrics = mlContext.MulticlassClassification.Evaluate(scored);
        var original = mlContext.MulticlassClassification.Evaluate(s_model.Transform(s_rows));
        Assert.AreEqual(original.MicroAccuracy, metrics.MicroAccuracy);
        Assert.AreEqual(original.LogLoss, metrics.LogLoss);
        ((IDisposable)loaded).Dispose();
    }

    [TestMethod]
    public void TheLoadedChainServesPredictionEngineAndItsOutputSchema()
    {
        var mlContext = new MLContext();
        var loaded = mlContext.Model.Load(new MemoryStream(SavedModel()), out var inputSchema);

        var schema = loaded.GetOutputSchema(inputSchema);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 2), schema["Score"].Type);
        Assert.AreEqual(TextDataViewType.Instance, schema["PredictedLabel"].Type);
        var engine = mlContext.Model.CreatePredictionEngine<ImageRow, Prediction>(loaded, inputSchema);
        var originalEngine = mlContext.Model.CreatePredictionEngine<ImageRow, Prediction>(s_model, s_rows.Schema);
        foreach (var row in s_images.Rows)
        {
            var prediction = engine.Predict(row);
            var original = originalEngine.Predict(row);
            Assert.AreEqual(original.PredictedLabel, prediction.PredictedLabel, row.ImagePath);
            CollectionAssert.AreEqual(original.Score, prediction.Score, row.ImagePath);
        }

        ((IDisposable)loaded).Dispose();
    }

    [TestMethod]
    public void LoadFollowsMLContextsGpuSettings()
    {
        if (TorchSharp.torch.cuda.is_available())
        {
            Assert.Inconclusive("checks the CPU fallback; CUDA is available here");
        }

        byte[] model = SavedModel();
        var fallback = new MLContext { GpuDeviceId = 0, FallbackToCpu = true };
        var loaded = fallback.Model.Load(new MemoryStream(model), out _);
        TestPipelines.AssertSameScores(s_scores, TestPipelines.Scores(loaded.Transform(s_rows)), "fell back to the CPU", tolerance: 0);
        ((IDisposable)loaded).Dispose();

        var strict = new MLContext { GpuDeviceId = 0, FallbackToCpu = false };
        var error = ModelFileAssert.LoadFails<InvalidOperationException>(() => strict.Model.Load(new MemoryStream(model), out _));
        StringAssert.Contains(error.Message, "MLContext.GpuDeviceId is 0");
    }

    [TestMethod]
    public void AFreshProcessLoadsTheFileWithoutRegisteringAnything()
    {
        string model = Path.Combine(s_images.Path, "second-process.zip");
        new MLContext().Model.Save(s_model, s_rows.Schema, model);
        string rows = Path.Combine(s_images.Path, "rows.tsv");
        File.WriteAllLines(rows, s_images.Rows.Select(row => $"{row.ImagePath}\t{row.Label}").Prepend("ImagePath\tLabel"));

        var lines = RunProbe(model, rows);

        var labels = s_model.Transform(s_rows).GetColumn<string>("PredictedLabel").ToList();
        Assert.HasCount(s_scores.Length, lines);
        for (int row = 0; row < lines.Count; row++)
        {
            string[] parts = lines[row].Split('\t');
            Assert.AreEqual(labels[row], parts[0], $"row {row}: predicted label");
            var scores = parts[1].Split(',').Select(bits => BitConverter.Int32BitsToSingle(int.Parse(bits, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            CollectionAssert.AreEqual(s_scores[row], scores.ToArray(), $"row {row}: scores, bit for bit");
        }
    }

    [TestMethod]
    public void ADamagedEntryThrowsInvalidData()
    {
        var damaged = RewriteEntries(SavedModel(), (name, bytes) => name.EndsWith("GhostML.Classifier.zip", StringComparison.Ordinal) ? bytes[..(bytes.Length / 2)] : bytes);

        var error = ModelFileAssert.LoadFails<InvalidDataException>(damaged);
        StringAssert.Contains(error.Message, "not a saved Ghost.ML model");
    }

    [TestMethod]
    public void AnEntryWithoutItsPayloadThrowsInvalidData()
    {
        var damaged = RewriteEntries(SavedModel(), (name, bytes) => name.EndsWith("GhostML.Classifier.zip", StringComparison.Ordinal) ? null : bytes);

        var error = ModelFileAssert.LoadFails<InvalidDataException>(damaged);
        StringAssert.Contains(error.Message, "GhostML.Classifier.zip");
    }

    [TestMethod]
    public void AFileFromANewerGhostMLSaysSo()
    {
        // ML.NET's entry header: the 8-byte model signature at 0x40, then the versions written and readable.
        byte[] signature = System.Text.Encoding.ASCII.GetBytes("GHOSTBNC");
        int patched = 0;
        var newer = RewriteEntries(SavedModel(), (name, bytes) =>
        {
            if (bytes.Length > 0x50 && bytes.AsSpan(0x40, 8).SequenceEqual(signature))
            {
                BitConverter.TryWriteBytes(bytes.AsSpan(0x48, 4), 0x00020001u);
                BitConverter.TryWriteBytes(bytes.AsSpan(0x4C, 4), 0x00020001u);
                patched++;
            }

            return bytes;
        });

        Assert.AreEqual(1, patched, "the classifier's entry");
        var error = ModelFileAssert.LoadFails<NotSupportedException>(newer);
        StringAssert.Contains(error.Message, "newer Ghost.ML");
    }

    [TestMethod]
    public void BuiltAgainstTheMLNetVersionItRunsWith()
    {
        string runtime = typeof(ModelSaveContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        string reference = typeof(GhostBatchNormClassificationTransformer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "MLNetInternalsReference").Value!;

        Assert.AreEqual(runtime, reference, "the reference copy was generated from the Microsoft.ML.Core loaded here");
        StringAssert.StartsWith(reference, "6.0.0+", "the ML.NET version the model-file support was written and tested for");
    }

    [TestMethod]
    public void ChangedMLNetInternalsPointToTransformerSave()
    {
        var error = Assert.ThrowsExactly<NotSupportedException>(() => Ghost.ML.Persistence.MLNet.MLNetModelFormat.AtBoundary<int>(
            "mlContext.Model.Save", () => throw new MissingMethodException("Microsoft.ML.ModelSaveContext", "SaveBinaryStream")));

        StringAssert.Contains(error.Message, "transformer.Save(path)");
        StringAssert.Contains(error.Message, "GhostBatchNormClassificationTransformer.Load(mlContext, path)");
        Assert.IsInstanceOfType<MissingMethodException>(error.InnerException);
    }

    private static byte[] SavedModel()
    {
        using var stream = new MemoryStream();
        new MLContext().Model.Save(s_model, s_rows.Schema, stream);
        return stream.ToArray();
    }

    /// <summary>A copy of a model zip with each entry's bytes replaced by <paramref name="rewrite"/> (null drops the entry).</summary>
    private static byte[] RewriteEntries(byte[] model, Func<string, byte[], byte[]?> rewrite)
    {
        using var output = new MemoryStream();
        using (var source = new ZipArchive(new MemoryStream(model), ZipArchiveMode.Read))
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                using var content = new MemoryStream();
                using (var input = entry.Open())
                {
                    input.CopyTo(content);
                }

                if (rewrite(entry.FullName, content.ToArray()) is { } bytes)
                {
                    using var written = target.CreateEntry(entry.FullName).Open();
                    written.Write(bytes);
                }
            }
        }

        return output.ToArray();
    }

    public sealed class Prediction
    {
        public string PredictedLabel { get; set; } = string.Empty;

        public float[] Score { get; set; } = [];
    }

    /// <summary>Runs tests/Tools/ModelFileProbe (built into this project's output) and returns its output lines.</summary>
    private static List<string> RunProbe(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ModelFileProbe.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var probe = Process.Start(start)!;
        var error = probe.StandardError.ReadToEndAsync();
        string output = probe.StandardOutput.ReadToEnd();
        Assert.IsTrue(probe.WaitForExit(TimeSpan.FromMinutes(2)), "the probe finished");
        Assert.AreEqual(0, probe.ExitCode, $"probe exit code; stderr:\n{error.Result}");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }
}
