namespace ImageClassification.Data;

/// <summary>The Fashion-MNIST data set (Zalando Research, MIT licence): its class names and its two IDX file pairs.</summary>
internal static class FashionMnist
{
    /// <summary>The class names by label, written so that each is a valid folder name.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"];

    /// <summary>The 60,000 training images (<c>train-*</c>).</summary>
    public static IdxImageSet ReadTrain(string folder) => ReadChecked(folder, "train");

    /// <summary>The 10,000 test images (<c>t10k-*</c>).</summary>
    public static IdxImageSet ReadTest(string folder) => ReadChecked(folder, "t10k");

    /// <summary>The class name of a label.</summary>
    public static string ClassName(int label) => ClassNames[label];

    private static IdxImageSet ReadChecked(string folder, string prefix)
    {
        if (!Directory.Exists(folder))
        {
            throw new SampleInputException($"IDX folder not found: {folder}");
        }

        var set = IdxImageSet.Read(folder, prefix);
        for (var i = 0; i < set.Count; i++)
        {
            if (set.LabelAt(i) >= ClassNames.Count)
            {
                throw new SampleInputException(
                    $"{set.NameOf(i)} has label {set.LabelAt(i)}; Fashion-MNIST labels are 0 to {ClassNames.Count - 1}.");
            }
        }

        return set;
    }
}
