using ImageClassification.Model;
using SkiaSharp;

namespace ImageClassification.Data;

/// <summary>
/// Reads a folder of images with one subfolder per class. When the folder has <c>train/</c> and <c>test/</c>
/// subfolders (each with one subfolder per class) that split is used; otherwise each class is split
/// <see cref="TestFraction"/> for test, the rest for training.
/// </summary>
internal static class ImageFolderReader
{
    /// <summary>The share of each class held out for test when the folder has no split of its own.</summary>
    public const double TestFraction = 0.2;

    private static readonly HashSet<string> ImageExtensions =
        new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>Finds the images, reads them, checks that each can be decoded, and splits them.</summary>
    /// <param name="folder">The data folder.</param>
    /// <param name="seed">Seeds the split when the folder has none.</param>
    /// <exception cref="SampleInputException">
    /// The folder is missing, holds no images or only one class, or an image cannot be read.
    /// </exception>
    public static ImageFolderDataset Read(string folder, int seed)
    {
        if (!Directory.Exists(folder))
        {
            throw new SampleInputException($"Data folder not found: {folder}");
        }

        var skipped = new List<string>();
        var trainFolder = Path.Combine(folder, "train");
        var testFolder = Path.Combine(folder, "test");
        var hasOwnSplit = Directory.Exists(trainFolder) && Directory.Exists(testFolder);
        var (train, test) = hasOwnSplit
            ? (ReadClassFolders(trainFolder, skipped), ReadClassFolders(testFolder, skipped))
            : Split(ReadClassFolders(folder, skipped), seed);

        string[] classNames = [.. train.Select(image => image.Input.Label).Distinct().Order(StringComparer.Ordinal)];
        if (classNames.Length == 0)
        {
            throw new SampleInputException(
                $"No images in {folder}: expected one subfolder of images per class (optionally inside train/ and test/).");
        }

        if (classNames.Length == 1)
        {
            throw new SampleInputException(
                $"Only one class ('{classNames[0]}') in {folder}: a classifier needs at least two class subfolders with images.");
        }

        if (test.Count == 0)
        {
            throw new SampleInputException($"No test images in {testFolder}: it needs one subfolder of images per class.");
        }

        var unknown = test.FirstOrDefault(image => Array.BinarySearch(classNames, image.Input.Label, StringComparer.Ordinal) < 0);
        if (unknown is not null)
        {
            throw new SampleInputException($"Class '{unknown.Input.Label}' has test images but no training images ({unknown.Name}).");
        }

        var layout = hasOwnSplit ? "its own train/test split" : $"{TestFraction:P0} of each class held out for test";
        return new ImageFolderDataset(folder, $"{folder} ({layout})", train, test, skipped);
    }

    private static List<LabeledImage> ReadClassFolders(string folder, List<string> skipped)
    {
        skipped.AddRange(Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal));
        var rows = new List<LabeledImage>();
        foreach (var classFolder in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            var label = Path.GetFileName(classFolder);
            foreach (var file in Directory.EnumerateFiles(classFolder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (!ImageExtensions.Contains(Path.GetExtension(file)))
                {
                    skipped.Add(file);
                    continue;
                }

                rows.Add(new LabeledImage(file, new ModelInput { Label = label, ImageSource = ReadImage(file) }));
            }
        }

        return rows;
    }

    // The header check is cheap enough for every file, and it catches files that merely carry an image extension.
    private static byte[] ReadImage(string file)
    {
        var bytes = File.ReadAllBytes(file);
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null || codec.Info.Width == 0 || codec.Info.Height == 0)
        {
            throw new SampleInputException($"Cannot read image {file}: it is not a valid PNG, JPEG, BMP, GIF or WebP file.");
        }

        return bytes;
    }

    private static (List<LabeledImage> Train, List<LabeledImage> Test) Split(List<LabeledImage> rows, int seed)
    {
        var random = new Random(seed);
        var train = new List<LabeledImage>();
        var test = new List<LabeledImage>();
        foreach (var byClass in rows.GroupBy(image => image.Input.Label))
        {
            var images = byClass.ToArray();
            if (images.Length < 2)
            {
                throw new SampleInputException(
                    $"Class '{byClass.Key}' has only one image: splitting it into training and test needs at least two.");
            }

            random.Shuffle(images);
            var testCount = Math.Max(1, (int)Math.Round(images.Length * TestFraction));
            test.AddRange(images[..testCount]);
            train.AddRange(images[testCount..]);
        }

        return (train, test);
    }
}
