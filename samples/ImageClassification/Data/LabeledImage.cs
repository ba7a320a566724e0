using ImageClassification.Model;

namespace ImageClassification.Data;

/// <summary>An image of the data set: its name for reports (a file path, or <c>file#index</c> for IDX) and its model input.</summary>
internal sealed record LabeledImage(string Name, ModelInput Input);
