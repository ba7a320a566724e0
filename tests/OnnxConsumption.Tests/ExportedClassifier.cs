using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace OnnxConsumption.Tests;

/// <summary>
/// What a consumer reads from an exported Ghost.ML classifier before building its pipeline: the input's image size
/// and channel count (<c>input</c> is float32 [N, C, H, W]) and the class names (metadata <c>ghostml.class_names</c>,
/// a JSON array; element i is the class of Score slot i).
/// </summary>
internal sealed record ExportedClassifier(int Channels, int Height, int Width, IReadOnlyList<string> ClassNames)
{
    public static ExportedClassifier Read(string modelPath)
    {
        using var session = new InferenceSession(modelPath);
        int[] input = session.InputMetadata["input"].Dimensions;
        var names = JsonSerializer.Deserialize<string[]>(session.ModelMetadata.CustomMetadataMap["ghostml.class_names"])
            ?? throw new InvalidDataException("The model's ghostml.class_names is not a JSON array.");
        return new ExportedClassifier(input[1], input[2], input[3], names);
    }

    /// <summary>The class of the highest probability.</summary>
    public string Predict(float[] score) => ClassNames[Array.IndexOf(score, score.Max())];
}
