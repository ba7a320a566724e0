namespace ImageClassification.Data;

/// <summary>
/// Grey images and their labels from a pair of IDX files named the MNIST way:
/// <c>{prefix}-images-idx3-ubyte[.gz]</c> (count × height × width) and <c>{prefix}-labels-idx1-ubyte[.gz]</c>.
/// </summary>
internal sealed class IdxImageSet
{
    private readonly byte[] _pixels;
    private readonly byte[] _labels;

    private IdxImageSet(string imageFileName, int height, int width, byte[] pixels, byte[] labels)
    {
        ImageFileName = imageFileName;
        Height = height;
        Width = width;
        _pixels = pixels;
        _labels = labels;
    }

    /// <summary>The file name of the images, used to name an image as <c>file#index</c>.</summary>
    public string ImageFileName { get; }

    public int Count => _labels.Length;

    public int Height { get; }

    public int Width { get; }

    /// <summary>The label of the image at <paramref name="index"/>, 0-based as stored.</summary>
    public int LabelAt(int index) => _labels[index];

    /// <summary>The grey pixels of the image at <paramref name="index"/>, row by row.</summary>
    public ReadOnlySpan<byte> PixelsAt(int index) => _pixels.AsSpan(index * Height * Width, Height * Width);

    /// <summary>A readable name for the image at <paramref name="index"/>.</summary>
    public string NameOf(int index) => $"{ImageFileName}#{index}";

    /// <summary>Reads <c>{prefix}-images-idx3-ubyte</c> and <c>{prefix}-labels-idx1-ubyte</c> (gzip or plain) from a folder.</summary>
    /// <exception cref="SampleInputException">A file is missing, malformed, or the two do not match.</exception>
    public static IdxImageSet Read(string folder, string prefix)
    {
        var imagesPath = FindFile(folder, $"{prefix}-images-idx3-ubyte");
        var labelsPath = FindFile(folder, $"{prefix}-labels-idx1-ubyte");
        var images = IdxArray.Read(imagesPath);
        var labels = IdxArray.Read(labelsPath);
        if (images.Dimensions.Count != 3)
        {
            throw new SampleInputException($"{imagesPath} holds a {images.Dimensions.Count}-dimensional array; images need 3 (count × height × width).");
        }

        if (labels.Dimensions.Count != 1 || labels.Dimensions[0] != images.Dimensions[0])
        {
            throw new SampleInputException($"{labelsPath} does not hold one label per image of {imagesPath} ({images.Dimensions[0]} images).");
        }

        return new IdxImageSet(Path.GetFileName(imagesPath), images.Dimensions[1], images.Dimensions[2], images.Values, labels.Values);
    }

    private static string FindFile(string folder, string baseName)
    {
        var compressed = Path.Combine(folder, baseName + ".gz");
        var plain = Path.Combine(folder, baseName);
        return File.Exists(compressed) || !File.Exists(plain) ? compressed : plain;
    }
}
