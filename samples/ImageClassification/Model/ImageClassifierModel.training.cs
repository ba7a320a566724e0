using Ghost.ML;
using ImageClassification.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace ImageClassification.Model;

/// <summary>The training part: the pipeline, how it is fitted, and how it is saved.</summary>
internal static partial class ImageClassifierModel
{
    /// <summary>
    /// Fits <c>MapValueToKey → GhostBatchNormImageClassifier → MapKeyToValue</c> on the training images; the test
    /// images serve as the validation set for the per-epoch curves (they are not trained on).
    /// </summary>
    /// <param name="onEpoch">Called after each epoch with its loss, accuracy and speed.</param>
    public static TransformerChain<KeyToValueMappingTransformer> Train(
        MLContext mlContext, ImageDataset dataset, SampleSettings settings, Action<GhostBatchNormEpochMetrics> onEpoch,
        CancellationToken cancellationToken)
    {
        var trainData = dataset.LoadTrain(mlContext);
        var validationSet = BuildPreprocessing(mlContext).Fit(trainData).Transform(dataset.LoadTest(mlContext));
        var pipeline = BuildPipeline(mlContext, new GhostBatchNormImageClassifier.Options
        {
            LabelColumnName = ColumnNames.Label,
            FeatureColumnName = ColumnNames.ImageSource,
            ScoreColumnName = ColumnNames.Score,
            PredictedLabelColumnName = ColumnNames.PredictedLabel,
            Architecture = settings.Architecture,
            ImageWidth = settings.ImageSize,
            ImageHeight = settings.ImageSize,
            Epoch = settings.Epochs,
            BatchSize = settings.BatchSize,
            GhostBatchSize = settings.GhostBatchSize,
            Seed = settings.Seed,
            ValidationSet = validationSet,
            MetricsCallback = onEpoch,
            CancellationToken = cancellationToken,
        });
        return pipeline.Fit(trainData);
    }

    /// <summary>The whole training pipeline, Model Builder style: it starts from <see cref="ModelInput"/>'s columns.</summary>
    public static EstimatorChain<KeyToValueMappingTransformer> BuildPipeline(MLContext mlContext, GhostBatchNormImageClassifier.Options options) =>
        BuildPreprocessing(mlContext)
            .Append(mlContext.MulticlassClassification.Trainers.GhostBatchNormImageClassification(options))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue(ColumnNames.PredictedLabel));

    /// <summary>Saves the whole fitted pipeline, classifier included, as one ML.NET model file.</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string modelPath) =>
        mlContext.Model.Save(model, inputSchema, modelPath);

    // Sorting the keys by value makes the class order (and so the tables) independent of the row order.
    private static ValueToKeyMappingEstimator BuildPreprocessing(MLContext mlContext) =>
        mlContext.Transforms.Conversion.MapValueToKey(ColumnNames.Label, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue);
}
