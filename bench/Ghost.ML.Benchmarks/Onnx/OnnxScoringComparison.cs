using Ghost.ML.Benchmarks.Estimators;
using Ghost.ML.Benchmarks.Measurement;
using Ghost.ML.Imaging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Ghost.ML.Benchmarks.Onnx;

/// <summary>Images/s of the TorchSharp transformer and of its ONNX export in ONNX Runtime (medians of interleaved rounds).</summary>
/// <param name="TransformImagesPerSecond"><c>Transform</c> with 256 rows per forward pass (PNG decode included), Score read through a cursor.</param>
/// <param name="OnnxDecodedImagesPerSecond">The same PNGs decoded in parallel by Ghost.ML's decoder, then ONNX Runtime on batches of 256.</param>
/// <param name="BareTorchImagesPerSecond">The TorchSharp network alone on decoded, standardised batches of 256, with the softmax.</param>
/// <param name="BareOnnxImagesPerSecond">ONNX Runtime alone on decoded pixel batches of 256 (scaling, standardisation and softmax in the graph).</param>
/// <param name="LargestScoreDifference">The largest difference between the transformer's and ONNX Runtime's probabilities.</param>
/// <param name="SamePredictions">Whether both give every image the same class.</param>
internal sealed record OnnxScoringResult(double TransformImagesPerSecond, double OnnxDecodedImagesPerSecond, double BareTorchImagesPerSecond,
    double BareOnnxImagesPerSecond, double LargestScoreDifference, bool SamePredictions);

/// <summary>Issue 12: ONNX Runtime's batched scoring of the exported model against the TorchSharp transformer's.</summary>
internal static class OnnxScoringComparison
{
    private const int BatchSize = 256;

    /// <summary>Trains one epoch on the images, exports the transformer to ONNX, and scores the images both ways.</summary>
    public static OnnxScoringResult Measure(EstimatorOptions options)
    {
        var images = options.LoadImages();
        var mlContext = new MLContext(seed: 1);
        var data = EncodedImages.ToDataView(mlContext, images);
        using var transformer = options.Fit(mlContext, data, epochs: 1, tuneNativeAllocator: true);
        transformer.ScoringBatchSize = BatchSize;
        var scored = transformer.Transform(data);
        using var stream = new MemoryStream();
        transformer.SaveAsOnnx(stream);
        using var session = new InferenceSession(stream.ToArray());

        var encoded = data.GetColumn<byte[]>("Features").ToList();
        var pixelBatches = Batches(images.Count).Select(range => Pixels(images, range)).ToList();
        var classifier = transformer.Classifier;
        using var pixels = tensor(images.Pixels, [images.Count, 1, images.Height, images.Width]);
        var torchBatches = ScoringThroughput.Decode(classifier, pixels, BatchSize);

        var expected = ReadScores(scored);
        var actual = pixelBatches.SelectMany(batch => Run(session, batch, images.Height, images.Width)).ToList();
        var largest = expected.Zip(actual).Max(pair => pair.First.Zip(pair.Second).Max(value => Math.Abs(value.First - value.Second)));
        var samePredictions = expected.Zip(actual).All(pair => ArgMax(pair.First) == ArgMax(pair.Second));

        var times = InterleavedTimer.Medians(
            [
                () => ReadScores(scored),
                () => DecodeAndRun(session, encoded, images.Height, images.Width),
                () => ScoringThroughput.Forward(classifier, torchBatches),
                () => pixelBatches.ForEach(batch => Run(session, batch, images.Height, images.Width)),
            ],
            options.Rounds);
        torchBatches.ForEach(batch => batch.Dispose());
        return new OnnxScoringResult(images.Count / times[0].TotalSeconds, images.Count / times[1].TotalSeconds,
            images.Count / times[2].TotalSeconds, images.Count / times[3].TotalSeconds, largest, samePredictions);
    }

    private static IEnumerable<(int Start, int Count)> Batches(int count) =>
        Enumerable.Range(0, (count + BatchSize - 1) / BatchSize).Select(batch => (batch * BatchSize, Math.Min(BatchSize, count - (batch * BatchSize))));

    /// <summary>Decoded grey pixels 0–255 as float32, the exported model's input.</summary>
    private static float[] Pixels(Data.GreyImages images, (int Start, int Count) range)
    {
        int size = images.Height * images.Width;
        return [.. images.Pixels.AsSpan(range.Start * size, range.Count * size).ToArray().Select(value => (float)value)];
    }

    /// <summary>What an ONNX deployment does with encoded images: decode a batch in parallel, as the transformer does, and run it.</summary>
    private static void DecodeAndRun(InferenceSession session, IReadOnlyList<byte[]> encoded, int height, int width)
    {
        int size = height * width;
        foreach (var (start, count) in Batches(encoded.Count))
        {
            var bytes = new byte[count * size];
            Parallel.For(0, count, i => ImageDecoder.Decode(encoded[start + i], width, height, 1, bytes.AsSpan(i * size, size)));
            Run(session, [.. bytes.Select(value => (float)value)], height, width);
        }
    }

    private static List<float[]> Run(InferenceSession session, float[] pixels, int height, int width)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [pixels.Length / (height * width), 1, height, width]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["input"], [input], ["Score"]);
        var output = results.Single();
        return [.. output.GetTensorDataAsSpan<float>().ToArray().Chunk((int)output.GetTensorTypeAndShape().Shape[1])];
    }

    private static List<float[]> ReadScores(IDataView scored)
    {
        var score = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([score]);
        var getter = cursor.GetGetter<VBuffer<float>>(score);
        VBuffer<float> value = default;
        var rows = new List<float[]>();
        while (cursor.MoveNext())
        {
            getter(ref value);
            rows.Add(value.DenseValues().ToArray());
        }

        return rows;
    }

    private static int ArgMax(float[] scores) => Array.IndexOf(scores, scores.Max());
}
