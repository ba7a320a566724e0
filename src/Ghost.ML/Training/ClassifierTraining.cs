using Ghost.ML.Classification;
using Ghost.ML.Features;
using Ghost.ML.Hosting;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>What both estimators do in Fit: check the data, train with <see cref="TrainingLoop"/>, and describe the result.</summary>
internal static class ClassifierTraining
{
    /// <summary>Trains a classifier.</summary>
    /// <param name="environment">The ML.NET environment (logging, random seed, cancellation).</param>
    /// <param name="componentName">Name of the estimator, for the log.</param>
    /// <param name="options">The settings.</param>
    /// <param name="data">The training set.</param>
    /// <param name="format">How the feature column becomes samples.</param>
    /// <param name="architecture">Name of the network, saved with the model.</param>
    /// <param name="createModel">Builds the untrained network for the settled format and class count.</param>
    /// <param name="standardizeInput">Whether the input is standardized per channel.</param>
    public static TrainedClassifier Fit(IHostEnvironment environment, string componentName,
        GhostBatchNormTrainingOptions options, IDataView data, FeatureFormat format, string architecture,
        Func<FeatureFormat, int, nn.Module<Tensor, Tensor>> createModel, bool standardizeInput)
    {
        var host = environment.Register(componentName);
        using var channel = host.Start(nameof(IEstimator<ITransformer>.Fit));
        var columns = new TrainingColumns(options.LabelColumnName, options.FeatureColumnName, format);
        columns.Feature(data.Schema, "training set");
        if (IsEmpty(data))
        {
            throw new InvalidDataException("The training set is empty.");
        }

        var label = columns.Label(data.Schema, "training set");
        int seed = options.Seed ?? host.Rand.Next();
        var cancellation = new FitCancellation(host, options.CancellationToken);
        using var pretrained = options.PretrainedWeightsPath is { } path
            ? PretrainedStart.Read(path, architecture,
                architecture == TrainedClassifier.CustomArchitecture ? classes => createModel(format, classes) : null)
            : null;
        var network = new TrainingLoop(options, columns, channel, cancellation).Run(data, seed, createModel, standardizeInput, pretrained);
        return new TrainedClassifier
        {
            Network = network.Model,
            Device = network.Device,
            Architecture = architecture,
            GhostBatchSize = options.GhostBatchSize,
            Input = network.Input,
            Classes = ClassLabels.FromLabelColumn(label),
            Columns = new ClassifierColumns(options.LabelColumnName, options.FeatureColumnName, options.ScoreColumnName, options.PredictedLabelColumnName),
            ScoringBatchSize = options.ScoringBatchSize,
        };
    }

    /// <summary>Whether <paramref name="data"/> has no row; reads no column, so no image is loaded.</summary>
    private static bool IsEmpty(IDataView data)
    {
        if (data.GetRowCount() is { } count)
        {
            return count == 0;
        }

        using var cursor = data.GetRowCursor([]);
        return !cursor.MoveNext();
    }
}
