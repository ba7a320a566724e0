using Ghost.ML.Persistence;
using Ghost.ML.Persistence.MLNet;
using Microsoft.ML;
using static TorchSharp.torch;

namespace Ghost.ML;

// The transformer's part in ML.NET model files (mlContext.Model.Save / Model.Load); the format is MLNetModelFormat's.
public sealed partial class GhostBatchNormClassificationTransformer
{
    /// <summary>Writes the transformer into an ML.NET model file; called by <c>mlContext.Model.Save</c>.</summary>
    /// <exception cref="NotSupportedException">The Microsoft.ML loaded in this process is not one Ghost.ML can write model files for.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        MLNetModelFormat.Save(ctx, Save);
    }

    /// <summary>Rebuilds a transformer from the payload of an ML.NET model file entry (what <see cref="Save(Stream)"/> wrote).</summary>
    internal static GhostBatchNormClassificationTransformer LoadFromModelFile(Stream payload, Device device) =>
        new(ClassifierPackage.Load(payload, device, modelFactory: null));
}
