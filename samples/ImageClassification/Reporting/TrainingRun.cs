using Ghost.ML;
using ImageClassification.Model;

namespace ImageClassification.Reporting;

/// <summary>One trained configuration: its per-epoch history, its test metrics and where its model was saved.</summary>
internal sealed record TrainingRun(
    string Name,
    IReadOnlyList<GhostBatchNormEpochMetrics> History,
    ModelEvaluation Evaluation,
    TimeSpan TrainingTime,
    string ModelPath,
    OnnxRun? Onnx = null);

/// <summary>The model exported to ONNX and its test accuracy through ONNX Runtime.</summary>
internal sealed record OnnxRun(string ModelPath, double TestAccuracy);
