using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Ghost.ML.Tests.Estimators;

/// <summary>Small, fast settings and the canonical image pipeline, shared by the estimator tests.</summary>
internal static class TestPipelines
{
    /// <summary>8×8 images, ResNet-20, two short epochs: a second or two on two cores.</summary>
    public static GhostBatchNormImageClassifier.Options FastOptions(int epochs = 2) => new()
    {
        ImageWidth = 8,
        ImageHeight = 8,
        BatchSize = 16,
        GhostBatchSize = 4,
        Epoch = epochs,
        LearningRate = 0.05f,
        WarmupEpochs = 0.5f,
        Seed = 7,
        ScoringBatchSize = 7,
    };

    /// <summary>MapValueToKey → LoadRawImageBytes → GhostBatchNormImageClassifier → MapKeyToValue.</summary>
    public static EstimatorChain<KeyToValueMappingTransformer> Canonical(MLContext mlContext, string imageFolder, GhostBatchNormImageClassifier.Options options) =>
        mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.Transforms.LoadRawImageBytes("Features", imageFolder, nameof(ImageRow.ImagePath)))
            .Append(new GhostBatchNormImageClassifier(mlContext, options))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

    /// <summary>The Score column of every row.</summary>
    public static float[][] Scores(IDataView scored, string column = "Score") => [.. scored.GetColumn<float[]>(column)];

    /// <summary>
    /// Asserts that every row's scores are probabilities and that its PredictedLabel, mapped back to a value, is the
    /// Score slot name (class value) with the highest probability.
    /// </summary>
    public static void AssertPredictedLabelsFollowScores<T>(IDataView scored)
    {
        VBuffer<ReadOnlyMemory<char>> slotNames = default;
        scored.Schema["Score"].GetSlotNames(ref slotNames);
        var classes = slotNames.DenseValues().Select(name => name.ToString()).ToArray();
        var scores = Scores(scored);
        var predicted = scored.GetColumn<T>("PredictedLabel").Select(value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.HasCount(scores.Length, predicted);
        for (int row = 0; row < scores.Length; row++)
        {
            Assert.AreEqual(1, scores[row].Sum(), 1e-4, $"row {row}: probabilities sum to 1");
            Assert.AreEqual(classes[Array.IndexOf(scores[row], scores[row].Max())], predicted[row], $"row {row}: the class of the highest score");
        }
    }

    /// <summary>Asserts two score tables are equal to float rounding.</summary>
    public static void AssertSameScores(float[][] expected, float[][] actual, string what, float tolerance = 1e-5f)
    {
        Assert.HasCount(expected.Length, actual, $"{what}: row count");
        for (int row = 0; row < expected.Length; row++)
        {
            Assert.HasCount(expected[row].Length, actual[row], $"{what}: classes in row {row}");
            for (int k = 0; k < expected[row].Length; k++)
            {
                Assert.AreEqual(expected[row][k], actual[row][k], tolerance, $"{what}: row {row}, class {k}");
            }
        }
    }
}
