using ImageClassification.Data;

namespace ImageClassification.Tests;

[TestClass]
public sealed class ImageFolderReaderTests
{
    [TestMethod]
    public void Splits_each_class_when_the_folder_has_no_split_of_its_own()
    {
        using var folder = new TempFolder();
        TinyImages.WriteClasses(folder, "", 10, "cat", "dog");

        var dataset = ImageFolderReader.Read(folder.Path, seed: 1);

        CollectionAssert.AreEqual(new[] { "cat", "dog" }, dataset.ClassNames.ToArray());
        Assert.AreEqual(16, dataset.TrainCount);
        Assert.AreEqual(4, dataset.TestCount);
    }

    [TestMethod]
    public void Uses_the_folders_own_train_and_test_split()
    {
        using var folder = new TempFolder();
        TinyImages.WriteClasses(folder, "train", 5, "cat", "dog");
        TinyImages.WriteClasses(folder, "test", 2, "cat", "dog");

        var dataset = ImageFolderReader.Read(folder.Path, seed: 1);

        Assert.AreEqual(10, dataset.TrainCount);
        Assert.AreEqual(4, dataset.TestCount);
    }

    [TestMethod]
    public void Skips_files_that_are_not_images_and_names_them()
    {
        using var folder = new TempFolder();
        TinyImages.WriteClasses(folder, "", 3, "cat", "dog");
        var notes = folder.File("cat/notes.txt");
        File.WriteAllText(notes, "not an image");
        var readme = folder.File("README.md");
        File.WriteAllText(readme, "not in a class folder");

        var dataset = ImageFolderReader.Read(folder.Path, seed: 1);

        CollectionAssert.AreEquivalent(new[] { notes, readme }, dataset.SkippedFiles.ToArray());
        Assert.AreEqual(6, dataset.TrainCount + dataset.TestCount);
    }

    [TestMethod]
    public void A_missing_folder_is_named()
    {
        var missing = Path.Combine(Path.GetTempPath(), "ghostml-no-such-folder");

        var error = Assert.ThrowsExactly<SampleInputException>(() => ImageFolderReader.Read(missing, seed: 1));

        Assert.AreEqual($"Data folder not found: {missing}", error.Message);
    }

    [TestMethod]
    public void An_empty_folder_is_reported()
    {
        using var folder = new TempFolder();

        var error = Assert.ThrowsExactly<SampleInputException>(() => ImageFolderReader.Read(folder.Path, seed: 1));

        StringAssert.StartsWith(error.Message, $"No images in {folder.Path}");
    }

    [TestMethod]
    public void A_single_class_is_reported()
    {
        using var folder = new TempFolder();
        TinyImages.WriteClasses(folder, "", 4, "cat");

        var error = Assert.ThrowsExactly<SampleInputException>(() => ImageFolderReader.Read(folder.Path, seed: 1));

        StringAssert.StartsWith(error.Message, "Only one class ('cat')");
    }

    [TestMethod]
    public void An_unreadable_image_is_named()
    {
        using var folder = new TempFolder();
        TinyImages.WriteClasses(folder, "", 3, "cat", "dog");
        var broken = folder.File("dog/broken.png");
        File.WriteAllText(broken, "this is not a PNG");

        var error = Assert.ThrowsExactly<SampleInputException>(() => ImageFolderReader.Read(folder.Path, seed: 1));

        StringAssert.StartsWith(error.Message, $"Cannot read image {broken}");
    }

    [TestMethod]
    public void A_test_class_without_training_images_is_reported()
    {
        using var folder = new TempFolder();
        TinyImages.WriteClasses(folder, "train", 3, "cat", "dog");
        TinyImages.WriteClasses(folder, "test", 1, "cat", "bird");

        var error = Assert.ThrowsExactly<SampleInputException>(() => ImageFolderReader.Read(folder.Path, seed: 1));

        StringAssert.StartsWith(error.Message, "Class 'bird' has test images but no training images");
    }
}
