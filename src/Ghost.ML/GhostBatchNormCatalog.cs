using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Ghost.ML;

/// <summary>Catalog extensions: <c>mlContext.MulticlassClassification.Trainers.GhostBatchNormImageClassification(...)</c>.</summary>
public static class GhostBatchNormCatalog
{
    /// <summary>Trains a ResNet image classifier with Ghost BatchNorm; see <see cref="GhostBatchNormImageClassifier"/>.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">The settings.</param>
    public static GhostBatchNormImageClassifier GhostBatchNormImageClassification(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, GhostBatchNormImageClassifier.Options options) =>
        new(EnvironmentOf(catalog), options);

    /// <summary>Trains a ResNet-20 image classifier with Ghost BatchNorm and default settings; see <see cref="GhostBatchNormImageClassifier"/>.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">The key-typed label column.</param>
    /// <param name="featureColumnName">The encoded-image column (as <c>LoadRawImageBytes</c> produces).</param>
    /// <param name="ghostBatchSize">Samples per ghost batch; 0 for plain BatchNorm.</param>
    /// <param name="validationSet">Data measured after every epoch, or null.</param>
    public static GhostBatchNormImageClassifier GhostBatchNormImageClassification(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, string labelColumnName = "Label",
        string featureColumnName = "Features", int ghostBatchSize = 32, IDataView? validationSet = null) =>
        new(EnvironmentOf(catalog), new GhostBatchNormImageClassifier.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            GhostBatchSize = ghostBatchSize,
            ValidationSet = validationSet,
        });

    /// <summary>Trains your own TorchSharp classifier with Ghost BatchNorm; see <see cref="GhostBatchNormTrainer"/>.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="modelFactory">Builds the untrained network for a class count.</param>
    /// <param name="options">The settings.</param>
    public static GhostBatchNormTrainer GhostBatchNorm(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, Func<int, nn.Module<Tensor, Tensor>> modelFactory,
        GhostBatchNormTrainer.Options options) =>
        new(EnvironmentOf(catalog), modelFactory, options);

    /// <summary>
    /// The environment behind a catalog. ML.NET keeps it in an internal property (<c>IInternalCatalog.Environment</c>,
    /// the one its own trainers use), so it is found by type through reflection; its log still reaches MLContext.Log.
    /// </summary>
    private static IHostEnvironment EnvironmentOf(MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        for (var type = catalog.GetType(); type is not null; type = type.BaseType)
        {
            var property = type.GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .FirstOrDefault(candidate => candidate.PropertyType == typeof(IHostEnvironment) && candidate.GetIndexParameters().Length == 0);
            if (property?.GetValue(catalog) is IHostEnvironment environment)
            {
                return environment;
            }
        }

        throw new NotSupportedException(
            "This version of Microsoft.ML hides the catalog's environment differently; create the estimator with new GhostBatchNormImageClassifier(mlContext, options) instead.");
    }
}
