using Microsoft.ML;

namespace ImageClassification.Data;

/// <summary>A labelled image data set split into training and test images, held in memory as the pipeline reads them.</summary>
internal abstract class ImageDataset(string description, IReadOnlyList<LabeledImage> train, IReadOnlyList<LabeledImage> test)
{
    /// <summary>Where the images come from, for the report.</summary>
    public string Description => description;

    /// <summary>The class names, sorted.</summary>
    public IReadOnlyList<string> ClassNames { get; } = [.. train.Select(image => image.Input.Label).Distinct().Order(StringComparer.Ordinal)];

    public IReadOnlyList<LabeledImage> Train => train;

    public IReadOnlyList<LabeledImage> Test => test;

    public int TrainCount => train.Count;

    public int TestCount => test.Count;

    /// <summary>The training images as rows of <see cref="Model.ModelInput"/>.</summary>
    public IDataView LoadTrain(MLContext mlContext) => mlContext.Data.LoadFromEnumerable(train.Select(image => image.Input));

    /// <summary>The test images as rows of <see cref="Model.ModelInput"/>.</summary>
    public IDataView LoadTest(MLContext mlContext) => mlContext.Data.LoadFromEnumerable(test.Select(image => image.Input));

    /// <summary>A short name for an image in reports.</summary>
    public virtual string DisplayName(string name) => name;
}
