namespace ImageClassification.Data;

/// <summary>Image files on disk, labelled by their class folder, read into memory.</summary>
internal sealed class ImageFolderDataset(
    string folder,
    string description,
    IReadOnlyList<LabeledImage> train,
    IReadOnlyList<LabeledImage> test,
    IReadOnlyList<string> skippedFiles) : ImageDataset(description, train, test)
{
    /// <summary>Files that were left out because they are not images, or not inside a class folder.</summary>
    public IReadOnlyList<string> SkippedFiles => skippedFiles;

    /// <summary>The image's path inside the data folder.</summary>
    public override string DisplayName(string name) => Path.GetRelativePath(folder, name);
}
