using ImageClassification.Model;
using Microsoft.ML;

namespace ImageClassification.Data;

/// <summary>Image files on disk, labelled by their class folder.</summary>
internal sealed class ImageFolderDataset(
    string folder,
    string description,
    IReadOnlyList<string> classNames,
    IReadOnlyList<ModelInput> train,
    IReadOnlyList<ModelInput> test,
    IReadOnlyList<string> skippedFiles) : ImageDataset
{
    public override string Description => description;

    public override IReadOnlyList<string> ClassNames => classNames;

    public override int TrainCount => train.Count;

    public override int TestCount => test.Count;

    /// <summary>Files that were left out because they are not images, or not inside a class folder.</summary>
    public IReadOnlyList<string> SkippedFiles => skippedFiles;

    /// <summary>The image's path inside the data folder.</summary>
    public override string DisplayName(string imagePath) => Path.GetRelativePath(folder, imagePath);

    public override IDataView LoadTrain(MLContext mlContext) => mlContext.Data.LoadFromEnumerable(train);

    public override IDataView LoadTest(MLContext mlContext) => mlContext.Data.LoadFromEnumerable(test);

    public override IEstimator<ITransformer> LoadImageBytes(MLContext mlContext) =>
        mlContext.Transforms.LoadRawImageBytes(ColumnNames.ImageBytes, imageFolder: null, ColumnNames.ImagePath);
}
