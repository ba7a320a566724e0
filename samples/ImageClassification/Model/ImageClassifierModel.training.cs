using Ghost.ML;
using ImageClassification.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace ImageClassification.Model;

/// <summary>The training part: the pipeline and how it is fitted.</summary>
internal static partial class ImageClassifierModel
{
    /// <summary>
    /// Fits <c>MapValueToKey → LoadRawImageBytes → GhostBatchNormImageClassifier → MapKeyToValue</c> on the
    /// training images; the test images serve as the validation set for the per-epoch curves (they are not trained on).
    /// </summary>
    /// <param name="onEpoch">Called after each epoch with its loss, accuracy and speed.</param>
    public static TransformerChain<KeyToValueMappingTransformer> Train(
        MLContext mlContext, ImageDataset dataset, SampleSettings settings, Action<GhostBatchNormEpochMetrics> onEpoch,
        CancellationToken cancellationToken)
    {
        var trainData = dataset.LoadTrain(mlContext);
        var validationSet = BuildPreprocessing(mlContext, dataset).Fit(trainData).Transform(dataset.LoadTest(mlContext));
        var pipeline = BuildPipeline(mlContext, dataset, new GhostBatchNormImageClassifier.Options
        {
            LabelColumnName = ColumnNames.Label,
            FeatureColumnName = ColumnNames.ImageBytes,
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

    /// <summary>The whole training pipeline, Model Builder style.</summary>
    public static EstimatorChain<KeyToValueMappingTransformer> BuildPipeline(
        MLContext mlContext, ImageDataset dataset, GhostBatchNormImageClassifier.Options options) =>
        BuildPreprocessing(mlContext, dataset)
            .Append(mlContext.MulticlassClassification.Trainers.GhostBatchNormImageClassification(options))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue(ColumnNames.PredictedLabel));

    // Sorting the keys by value makes the class order (and so the tables) independent of the row order.
    private static EstimatorChain<ITransformer> BuildPreprocessing(MLContext mlContext, ImageDataset dataset) =>
        mlContext.Transforms.Conversion
            .MapValueToKey(ColumnNames.Label, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(dataset.LoadImageBytes(mlContext));
}
