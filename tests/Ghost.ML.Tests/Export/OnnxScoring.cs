using Ghost.ML.Imaging;
using Microsoft.ML.OnnxRuntime;

namespace Ghost.ML.Tests.Export;

/// <summary>Exports a transformer to ONNX and scores inputs with ONNX Runtime, the way a deployment without Ghost.ML would.</summary>
internal static class OnnxScoring
{
    /// <summary>The transformer's ONNX model, written through the Stream overload.</summary>
    public static byte[] Export(GhostBatchNormClassificationTransformer model)
    {
        using var stream = new MemoryStream();
        model.SaveAsOnnx(stream);
        return stream.ToArray();
    }

    /// <summary>The <c>Score</c> output for a batch of samples (row-major values of shape <paramref name="shape"/>), one array per row.</summary>
    public static float[][] Run(InferenceSession session, float[] values, long[] shape)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(values, shape);
        using var options = new RunOptions();
        using var results = session.Run(options, ["input"], [input], ["Score"]);
        var output = results.Single();
        long[] outputShape = output.GetTensorTypeAndShape().Shape;
        var scores = output.GetTensorDataAsSpan<float>().ToArray();
        return [.. scores.Chunk((int)outputShape[1])];
    }

    /// <summary>Encoded images decoded and resized as the classifier does, as float pixels 0–255, [n, channels, height, width] row-major.</summary>
    public static float[] Pixels(IReadOnlyList<byte[]> encoded, int channels, int height, int width)
    {
        int size = channels * height * width;
        var bytes = new byte[encoded.Count * size];
        for (int i = 0; i < encoded.Count; i++)
        {
            ImageDecoder.Decode(encoded[i], width, height, channels, bytes.AsSpan(i * size, size));
        }

        return [.. bytes.Select(value => (float)value)];
    }

    /// <summary>The index of each row's highest score.</summary>
    public static int[] ArgMax(float[][] scores) => [.. scores.Select(row => Array.IndexOf(row, row.Max()))];
}
