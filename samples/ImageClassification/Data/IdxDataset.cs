using ImageClassification.Model;

namespace ImageClassification.Data;

/// <summary>
/// Fashion-MNIST in IDX files: every image is encoded as PNG in memory, so the pipeline reads the same image bytes
/// as for image files, without writing 70,000 files to disk.
/// </summary>
internal sealed class IdxDataset(string folder, LabeledImage[] train, LabeledImage[] test)
    : ImageDataset($"IDX data in {folder}", train, test)
{
    /// <summary>Reads <c>train-*</c> and <c>t10k-*</c> from a folder in Fashion-MNIST's layout and encodes the images.</summary>
    /// <exception cref="SampleInputException">The folder or a file is missing or malformed.</exception>
    public static IdxDataset Load(string folder) =>
        new(folder, Encode(FashionMnist.ReadTrain(folder)), Encode(FashionMnist.ReadTest(folder)));

    private static LabeledImage[] Encode(IdxImageSet images)
    {
        var rows = new LabeledImage[images.Count];
        Parallel.For(0, images.Count, i => rows[i] = new LabeledImage(images.NameOf(i), new ModelInput
        {
            Label = FashionMnist.ClassName(images.LabelAt(i)),
            ImageSource = GreyPng.Encode(images.PixelsAt(i), images.Width, images.Height),
        }));
        return rows;
    }
}
