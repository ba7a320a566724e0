using Ghost.ML;
using ImageClassification.Data;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ImageClassification.Model;

/// <summary>The consumption part: load a saved model and predict.</summary>
internal static partial class ImageClassifierModel
{
    /// <summary>
    /// Saves the trained classifier to <paramref name="modelPath"/>. Only the classifier needs saving: the steps
    /// around it are stateless and <see cref="LoadModel"/> rebuilds them.
    /// </summary>
    public static void SaveModel(TransformerChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> model, string modelPath) =>
        model.OfType<GhostBatchNormClassificationTransformer>().Single().Save(modelPath);

    /// <summary>
    /// Loads a classifier saved by <see cref="SaveModel"/> and puts it between the image loading step of
    /// <paramref name="dataset"/> and <c>MapKeyToValue</c>, so that it maps <see cref="ModelInput"/> rows to
    /// <see cref="ModelOutput"/> rows.
    /// </summary>
    /// <param name="inputSchemaSource">Any rows of the data to predict; only its schema is read.</param>
    public static TransformerChain<ITransformer> LoadModel(
        MLContext mlContext, string modelPath, ImageDataset dataset, IDataView inputSchemaSource)
    {
        var classifier = GhostBatchNormClassificationTransformer.Load(mlContext, modelPath);
        var loadImageBytes = dataset.LoadImageBytes(mlContext).Fit(inputSchemaSource);
        var scored = classifier.Transform(loadImageBytes.Transform(inputSchemaSource));
        var keyToValue = mlContext.Transforms.Conversion.MapKeyToValue(ColumnNames.PredictedLabel).Fit(scored);
        return new TransformerChain<ITransformer>(loadImageBytes, classifier, keyToValue);
    }

    /// <summary>Predicts the class of each image, in one batched pass.</summary>
    public static IReadOnlyList<ModelOutput> Predict(MLContext mlContext, ITransformer model, IDataView images) =>
        [.. mlContext.Data.CreateEnumerable<ModelOutput>(model.Transform(images), reuseRowObject: false)];
}
