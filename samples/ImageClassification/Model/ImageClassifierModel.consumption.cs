using Microsoft.ML;

namespace ImageClassification.Model;

/// <summary>The consumption part, as Model Builder generates it: load the saved pipeline once and predict.</summary>
internal static partial class ImageClassifierModel
{
    private static string s_modelPath = Path.GetFullPath("model.zip");

    private static Lazy<PredictionEngine<ModelInput, ModelOutput>> s_predictEngine = CreateLazyEngine();

    /// <summary>
    /// The model file <c>mlContext.Model.Save</c> wrote (default: <c>model.zip</c> in the working folder). Setting it
    /// makes the next <see cref="Predict"/> load that file.
    /// </summary>
    public static string ModelPath
    {
        get => s_modelPath;
        set
        {
            s_modelPath = Path.GetFullPath(value);
            s_predictEngine = CreateLazyEngine();
        }
    }

    /// <summary>
    /// Predicts the class of one image. The first call loads the model; <c>PredictionEngine</c> is not thread-safe,
    /// so call this from one thread at a time (or use a PredictionEnginePool in a web app).
    /// </summary>
    public static ModelOutput Predict(ModelInput input) => s_predictEngine.Value.Predict(input);

    private static Lazy<PredictionEngine<ModelInput, ModelOutput>> CreateLazyEngine() => new(CreatePredictEngine, isThreadSafe: true);

    // The whole pipeline comes back from the file: no Ghost.ML call is needed, ML.NET finds the classifier's loader.
    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        ITransformer mlModel = mlContext.Model.Load(s_modelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
    }
}
