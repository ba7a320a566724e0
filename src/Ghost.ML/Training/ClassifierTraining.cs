using Ghost.ML.Features;
using Ghost.ML.Scoring;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>What both estimators do in Fit: check, train with <see cref="TrainingLoop"/>, and wrap the network in a transformer.</summary>
internal static class ClassifierTraining
{
    /// <summary>Trains a classifier.</summary>
    /// <param name="environment">The ML.NET environment (logging, random seed).</param>
    /// <param name="componentName">Name of the estimator, for the log.</param>
    /// <param name="options">The settings.</param>
    /// <param name="data">The training set.</param>
    /// <param name="format">How the feature column becomes samples.</param>
    /// <param name="architecture">Name of the network for the saved manifest.</param>
    /// <param name="createModel">Builds the untrained network for the settled format and class count.</param>
    /// <param name="standardizeInput">Whether the input is standardized per channel.</param>
    public static GhostBatchNormClassificationTransformer Fit(IHostEnvironment environment, string componentName,
        GhostBatchNormTrainingOptions options, IDataView data, FeatureFormat format, string architecture,
        Func<FeatureFormat, int, nn.Module<Tensor, Tensor>> createModel, bool standardizeInput)
    {
        var host = environment.Register(componentName);
        using var channel = host.Start(nameof(IEstimator<ITransformer>.Fit));
        var columns = new TrainingColumns(options.LabelColumnName, options.FeatureColumnName, format);
        columns.Feature(data.Schema, "training set");
        var label = columns.Label(data.Schema, "training set");
        int seed = options.Seed ?? host.Rand.Next();
        var network = new TrainingLoop(options, columns, channel).Run(data, seed, createModel, standardizeInput);
        return new GhostBatchNormClassificationTransformer(
            new ScoringModel(network.Model, network.Input, network.ClassCount, network.Device), ClassLabels.FromLabelColumn(label),
            architecture, options.GhostBatchSize, options.LabelColumnName, options.FeatureColumnName, options.ScoreColumnName,
            options.PredictedLabelColumnName, options.ScoringBatchSize);
    }
}
