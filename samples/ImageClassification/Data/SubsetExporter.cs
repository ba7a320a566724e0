namespace ImageClassification.Data;

/// <summary>
/// Writes a class-balanced subset of Fashion-MNIST as PNG files in the layout the sample reads:
/// <c>train/&lt;class&gt;/&lt;index&gt;.png</c> and <c>test/&lt;class&gt;/&lt;index&gt;.png</c>.
/// This is how the embedded data set under <c>assets/</c> was made.
/// </summary>
internal static class SubsetExporter
{
    /// <summary>
    /// Writes the first <paramref name="trainPerClass"/> images of each class of the training file and the first
    /// <paramref name="testPerClass"/> of the test file. Files are named by their index in the IDX file, so every
    /// PNG can be traced back to its source.
    /// </summary>
    /// <returns>The number of files written.</returns>
    public static int Export(string idxFolder, string targetFolder, int trainPerClass, int testPerClass)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trainPerClass);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(testPerClass);
        return WriteSplit(FashionMnist.ReadTrain(idxFolder), Path.Combine(targetFolder, "train"), trainPerClass)
            + WriteSplit(FashionMnist.ReadTest(idxFolder), Path.Combine(targetFolder, "test"), testPerClass);
    }

    private static int WriteSplit(IdxImageSet images, string folder, int perClass)
    {
        var written = new int[FashionMnist.ClassNames.Count];
        var total = 0;
        for (var i = 0; i < images.Count && total < perClass * written.Length; i++)
        {
            var label = images.LabelAt(i);
            if (written[label] == perClass)
            {
                continue;
            }

            var classFolder = Directory.CreateDirectory(Path.Combine(folder, FashionMnist.ClassName(label))).FullName;
            var png = GreyPng.Encode(images.PixelsAt(i), images.Width, images.Height);
            File.WriteAllBytes(Path.Combine(classFolder, $"{i:D5}.png"), png);
            written[label]++;
            total++;
        }

        return total;
    }
}
