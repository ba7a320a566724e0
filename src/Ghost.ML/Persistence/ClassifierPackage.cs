using Ghost.ML.Classification;
using Ghost.ML.Features;
using Ghost.ML.Torch;
using Ghost.ML.Torch.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Persistence;

/// <summary>
/// Writes a <see cref="TrainedClassifier"/> as a saved-model package (<see cref="ModelPackage"/>, format version
/// <see cref="ModelManifest.CurrentFormatVersion"/>) and reads one back, rebuilding its network.
/// </summary>
internal static class ClassifierPackage
{
    /// <summary>Saves <paramref name="classifier"/> to <paramref name="path"/>; the file is replaced only once complete.</summary>
    public static void Save(string path, TrainedClassifier classifier) => ModelPackage.Save(path, ToManifest(classifier), classifier.Network);

    /// <summary>Saves <paramref name="classifier"/> to <paramref name="stream"/>, which stays open.</summary>
    public static void Save(Stream stream, TrainedClassifier classifier) => ModelPackage.Save(stream, ToManifest(classifier), classifier.Network);

    /// <summary>Reads a classifier and moves its network to <paramref name="device"/>.</summary>
    /// <param name="stream">The saved model; it stays open.</param>
    /// <param name="device">Where the network goes.</param>
    /// <param name="modelFactory">Rebuilds the network for a class count; required for a custom network, optional for a ResNet.</param>
    /// <exception cref="InvalidDataException">The stream is not a saved Ghost.ML model.</exception>
    /// <exception cref="NotSupportedException">The model was saved in a newer format.</exception>
    /// <exception cref="InvalidOperationException">The network is custom, no factory was given and none is registered under its name.</exception>
    public static TrainedClassifier Load(Stream stream, Device device, Func<int, nn.Module<Tensor, Tensor>>? modelFactory) =>
        ModelPackage.Load(stream, manifest =>
        {
            var input = InputOf(manifest);
            var network = CreateNetwork(manifest, modelFactory);
            if (manifest.GhostBatchSize > 0)
            {
                network.ApplyGhostBatchNorm(manifest.GhostBatchSize);
            }

            return (network, FromManifest(manifest, network, input, device));
        });

    private static ModelManifest ToManifest(TrainedClassifier classifier)
    {
        var input = classifier.Input;
        var classes = classifier.Classes;
        var columns = classifier.Columns;
        return new ModelManifest
        {
            FormatVersion = ModelManifest.CurrentFormatVersion,
            LibraryVersion = typeof(ClassifierPackage).Assembly.GetName().Version?.ToString() ?? string.Empty,
            TorchSharpVersion = typeof(torch).Assembly.GetName().Version?.ToString() ?? string.Empty,
            Architecture = classifier.Architecture,
            ModelFactoryName = classifier.ModelFactoryName,
            ClassCount = classes.Count,
            LabelValueType = ClassLabels.NameOfType(classes.ValueType),
            LabelValues = classes.Values?.ToArray(),
            FeatureKind = input.Format is EncodedImageFormat ? ModelManifest.EncodedImageFeatures : ModelManifest.FloatVectorFeatures,
            SampleShape = input.Format.SampleShape,
            ChannelMean = input.ChannelMean,
            ChannelStd = input.ChannelStd,
            LabelColumnName = columns.Label,
            FeatureColumnName = columns.Feature,
            ScoreColumnName = columns.Score,
            PredictedLabelColumnName = columns.PredictedLabel,
            GhostBatchSize = classifier.GhostBatchSize,
            ScoringBatchSize = classifier.ScoringBatchSize,
        };
    }

    private static TrainedClassifier FromManifest(ModelManifest manifest, nn.Module<Tensor, Tensor> network, NetworkInput input, Device device)
    {
        network.to(device);
        return new TrainedClassifier
        {
            Network = network,
            Device = device,
            Architecture = manifest.Architecture,
            ModelFactoryName = manifest.ModelFactoryName,
            GhostBatchSize = manifest.GhostBatchSize,
            Input = input,
            Classes = new ClassLabels(manifest.ClassCount, ClassLabels.TypeFromName(manifest.LabelValueType), manifest.LabelValues),
            Columns = new ClassifierColumns(manifest.LabelColumnName, manifest.FeatureColumnName, manifest.ScoreColumnName, manifest.PredictedLabelColumnName),
            ScoringBatchSize = Math.Max(1, manifest.ScoringBatchSize),
        };
    }

    private static NetworkInput InputOf(ModelManifest manifest)
    {
        FeatureFormat format = manifest.FeatureKind switch
        {
            ModelManifest.EncodedImageFeatures when manifest.SampleShape.Length == 3 =>
                new EncodedImageFormat((int)manifest.SampleShape[2], (int)manifest.SampleShape[1], (int)manifest.SampleShape[0]),
            ModelManifest.FloatVectorFeatures => new FloatVectorFormat(manifest.SampleShape),
            _ => throw new InvalidDataException($"The saved model has an unknown feature kind '{manifest.FeatureKind}'."),
        };
        return new NetworkInput(format, manifest.ChannelMean, manifest.ChannelStd);
    }

    private static nn.Module<Tensor, Tensor> CreateNetwork(ModelManifest manifest, Func<int, nn.Module<Tensor, Tensor>>? modelFactory)
    {
        if (modelFactory is not null)
        {
            return modelFactory(manifest.ClassCount);
        }

        if (manifest.Architecture == TrainedClassifier.CustomArchitecture)
        {
            return manifest.ModelFactoryName is { } name
                ? GhostBatchNormModelFactories.Get(name)(manifest.ClassCount)
                : throw new InvalidOperationException(
                    "The model was trained by GhostBatchNormTrainer with a custom network: load it with GhostBatchNormClassificationTransformer.Load(mlContext, path, modelFactory), passing the same factory.");
        }

        if (!Enum.TryParse<ResNetArchitecture>(manifest.Architecture, out var architecture) || !Enum.IsDefined(architecture) || manifest.SampleShape.Length != 3)
        {
            throw new InvalidDataException($"The saved model names an unknown architecture '{manifest.Architecture}'.");
        }

        return ResNetFactory.Create(architecture, manifest.ClassCount, (int)manifest.SampleShape[0]);
    }
}
