using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ghost.ML.Tests.Estimators;

/// <summary>
/// What an estimator promises before fitting (GetOutputSchema, which EstimatorChain and MapKeyToValue read) is what
/// the fitted transformer produces, column by column, as ML.NET's own estimator tests check.
/// </summary>
[TestClass]
public sealed class OutputSchemaTests : SingleThreadedTorchTests
{
    /// <summary>ML.NET's <c>SchemaShape.Create(DataViewSchema)</c>, internal to it (its own tests are friends).</summary>
    private static readonly MethodInfo s_shapeOf = typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, [typeof(DataViewSchema)])
        ?? throw new MissingMethodException("SchemaShape.Create(DataViewSchema)");

    [TestMethod]
    public void ImageClassifierPromisesTheSchemaItsTransformerProduces()
    {
        using var images = new TestImageFolder(imagesPerClass: 4);
        var mlContext = new MLContext(seed: 1);
        var rows = mlContext.Data.LoadFromEnumerable(images.Rows);
        var data = mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.Transforms.LoadRawImageBytes("Features", images.Path, nameof(ImageRow.ImagePath)))
            .Fit(rows).Transform(rows);
        var estimator = new GhostBatchNormImageClassifier(mlContext, TestPipelines.FastOptions(epochs: 1));

        AssertPromiseKept(estimator, data, "Score", "PredictedLabel");
    }

    [TestMethod]
    public void TrainerPromisesTheSchemaItsTransformerProducesUnderOtherColumnNames()
    {
        var mlContext = new MLContext(seed: 1);
        var data = GhostBatchNormTrainerTests.KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 4));
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.Epoch = 1;
        options.ScoreColumnName = "Probabilities";
        options.PredictedLabelColumnName = "Label"; // replaces the input column of that name, as ML.NET's scorers do
        var estimator = new GhostBatchNormTrainer(mlContext, GhostBatchNormTrainerTests.SmallModel, options);

        AssertPromiseKept(estimator, data, "Probabilities", "Label");
    }

    private static void AssertPromiseKept(IEstimator<GhostBatchNormClassificationTransformer> estimator, IDataView data, string score, string predictedLabel)
    {
        var promised = estimator.GetOutputSchema(ShapeOf(data.Schema));
        using var transformer = estimator.Fit(data);
        var produced = ShapeOf(transformer.GetOutputSchema(data.Schema));

        CollectionAssert.AreEqual(produced.Select(column => column.Name).ToArray(), promised.Select(column => column.Name).ToArray(), "column names in order");
        foreach (var column in produced)
        {
            AssertSameColumn(column, promised.Single(candidate => candidate.Name == column.Name), column.Name);
        }

        Assert.HasCount(4, produced.Single(column => column.Name == score).Annotations, "Score: slot names, label values, score kinds");
        Assert.IsTrue(produced.Single(column => column.Name == predictedLabel).IsKey, "PredictedLabel is a key");
    }

    private static void AssertSameColumn(SchemaShape.Column expected, SchemaShape.Column actual, string where)
    {
        Assert.AreEqual(expected.Kind, actual.Kind, $"{where}: vector kind");
        Assert.AreEqual(expected.ItemType, actual.ItemType, $"{where}: item type");
        Assert.AreEqual(expected.IsKey, actual.IsKey, $"{where}: key");
        var expectedAnnotations = expected.Annotations.OrderBy(annotation => annotation.Name, StringComparer.Ordinal).ToList();
        var actualAnnotations = actual.Annotations.OrderBy(annotation => annotation.Name, StringComparer.Ordinal).ToList();
        CollectionAssert.AreEqual(expectedAnnotations.Select(annotation => annotation.Name).ToArray(), actualAnnotations.Select(annotation => annotation.Name).ToArray(), $"{where}: annotation kinds");
        foreach (var (expectedAnnotation, actualAnnotation) in expectedAnnotations.Zip(actualAnnotations))
        {
            AssertSameColumn(expectedAnnotation, actualAnnotation, $"{where}, annotation {expectedAnnotation.Name}");
        }
    }

    private static SchemaShape ShapeOf(DataViewSchema schema) => (SchemaShape)s_shapeOf.Invoke(null, [schema])!;
}
