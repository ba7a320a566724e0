using Microsoft.ML;

namespace ImageClassification.Data;

/// <summary>A labelled image data set split into training and test images, ready for the pipeline.</summary>
internal abstract class ImageDataset
{
    /// <summary>Where the images come from, for the report.</summary>
    public abstract string Description { get; }

    /// <summary>The class names, sorted.</summary>
    public abstract IReadOnlyList<string> ClassNames { get; }

    public abstract int TrainCount { get; }

    public abstract int TestCount { get; }

    /// <summary>The training images as rows of <see cref="Model.ModelInput"/>.</summary>
    public abstract IDataView LoadTrain(MLContext mlContext);

    /// <summary>The test images as rows of <see cref="Model.ModelInput"/>.</summary>
    public abstract IDataView LoadTest(MLContext mlContext);

    /// <summary>A short name for an image in reports.</summary>
    public virtual string DisplayName(string imagePath) => imagePath;

    /// <summary>
    /// The pipeline step that fills <see cref="Model.ColumnNames.ImageBytes"/>: <c>LoadRawImageBytes</c> for files,
    /// nothing for images already in memory.
    /// </summary>
    public abstract IEstimator<ITransformer> LoadImageBytes(MLContext mlContext);
}
