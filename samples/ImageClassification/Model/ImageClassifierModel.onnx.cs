using System.Text.Json;
using Ghost.ML;
using ImageClassification.Data;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using SkiaSharp;

namespace ImageClassification.Model;

/// <summary>
/// The <c>--export-onnx</c> part: the trained classifier written as ONNX (pixels 0–255 in, probabilities out, class
/// names in the metadata), and its test accuracy measured the way a deployment without Ghost.ML or libtorch scores.
/// </summary>
internal static partial class ImageClassifierModel
{
    private const int OnnxBatchSize = 256;

    /// <summary>Writes the pipeline's classifier to <paramref name="onnxPath"/>.</summary>
    public static void ExportOnnx(ITransformer model, string onnxPath) =>
        ((IEnumerable<ITransformer>)model).OfType<GhostBatchNormClassificationTransformer>().Single().SaveAsOnnx(onnxPath);

    /// <summary>
    /// The share of <paramref name="test"/> that ONNX Runtime classifies correctly with the exported model: each image
    /// decoded and resized as the classifier does (SkiaSharp, Mitchell's cubic filter), scored in batches, and the
    /// class of the highest probability named by the model's <c>ghostml.class_names</c>.
    /// </summary>
    public static double OnnxAccuracy(string onnxPath, IReadOnlyList<LabeledImage> test)
    {
        using var session = new InferenceSession(onnxPath);
        int[] shape = session.InputMetadata["input"].Dimensions;
        var (channels, height, width) = (shape[1], shape[2], shape[3]);
        var classNames = JsonSerializer.Deserialize<string[]>(session.ModelMetadata.CustomMetadataMap["ghostml.class_names"])!;
        int size = channels * height * width;
        int correct = 0;
        foreach (var batch in test.Chunk(OnnxBatchSize))
        {
            var pixels = new float[batch.Length * size];
            Parallel.For(0, batch.Length, i => Decode(batch[i].Input.ImageSource, channels, height, width, pixels.AsSpan(i * size, size)));
            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [batch.Length, channels, height, width]);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, ["input"], [input], ["Score"]);
            var scores = results[0].GetTensorDataAsSpan<float>().ToArray();
            for (int i = 0; i < batch.Length; i++)
            {
                correct += classNames[ArgMax(scores.AsSpan(i * classNames.Length, classNames.Length))] == batch[i].Input.Label ? 1 : 0;
            }
        }

        return (double)correct / test.Count;
    }

    /// <summary>Decodes and stretches an image to width×height, writing channel planes (grey, or R, G, B) of values 0–255.</summary>
    private static void Decode(byte[] encoded, int channels, int height, int width, Span<float> destination)
    {
        using var source = SKBitmap.Decode(encoded) ?? throw new InvalidDataException("A test image cannot be decoded.");
        using var resized = new SKBitmap(new SKImageInfo(width, height, channels == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque));
        source.ScalePixels(resized, new SKSamplingOptions(SKCubicResampler.Mitchell));
        var pixels = resized.GetPixelSpan();
        int plane = width * height;
        for (int i = 0; i < plane; i++)
        {
            for (int channel = 0; channel < channels; channel++)
            {
                destination[(channel * plane) + i] = channels == 1 ? pixels[i] : pixels[(4 * i) + channel];
            }
        }
    }

    private static int ArgMax(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int k = 1; k < scores.Length; k++)
        {
            best = scores[k] > scores[best] ? k : best;
        }

        return best;
    }
}
