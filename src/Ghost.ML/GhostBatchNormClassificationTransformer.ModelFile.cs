using Ghost.ML.Classification;
using Ghost.ML.Persistence;
using Ghost.ML.Persistence.MLNet;
using Microsoft.ML;
using static TorchSharp.torch;

namespace Ghost.ML;

// The transformer's part in ML.NET model files (mlContext.Model.Save / Model.Load); the format is MLNetModelFormat's.
public sealed partial class GhostBatchNormClassificationTransformer
{
    /// <summary>Writes the transformer into an ML.NET model file; called by <c>mlContext.Model.Save</c>.</summary>
    /// <exception cref="InvalidOperationException">A custom network was trained without <see cref="GhostBatchNormTrainer.Options.ModelFactoryName"/>.</exception>
    /// <exception cref="NotSupportedException">The Microsoft.ML loaded in this process is not one Ghost.ML can write model files for.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_classifier.Architecture == TrainedClassifier.CustomArchitecture && _classifier.ModelFactoryName is null)
        {
            throw new InvalidOperationException(
                "mlContext.Model.Save cannot store this GhostBatchNormTrainer model: its network comes from your factory, and the model does not name it. "
                + "Train with GhostBatchNormTrainer.Options.ModelFactoryName set (and register the factory under that name with GhostBatchNormModelFactories.Register before mlContext.Model.Load), "
                + "or save the transformer alone with transformer.Save(path) and load it with GhostBatchNormClassificationTransformer.Load(mlContext, path, modelFactory).");
        }

        MLNetModelFormat.Save(ctx, Save);
    }

    /// <summary>Rebuilds a transformer from the payload of an ML.NET model file entry (what <see cref="Save(Stream)"/> wrote).</summary>
    internal static GhostBatchNormClassificationTransformer LoadFromModelFile(Stream payload, Device device) =>
        new(ClassifierPackage.Load(payload, device, modelFactory: null));
}
