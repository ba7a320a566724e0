using ImageClassification.Model;

namespace ImageClassification.Reporting;

/// <summary>A test image (its name, and its bytes with the true class) and what the reloaded model predicted for it.</summary>
internal sealed record ImagePrediction(string ImageName, ModelInput Image, ModelOutput Output);
