using ImageClassification.Data;

namespace ImageClassification.Tests;

/// <summary>Writes tiny grey PNG images into class folders, for tests that need a data set on disk.</summary>
internal static class TinyImages
{
    public const int Size = 8;

    /// <summary>Writes <paramref name="perClass"/> images for each class into <c>&lt;folder&gt;/&lt;class&gt;/</c>.</summary>
    /// <remarks>Each class has its own brightness, with a little per-image variation, so the classes are learnable.</remarks>
    public static void WriteClasses(TempFolder folder, string subfolder, int perClass, params string[] classNames)
    {
        for (var c = 0; c < classNames.Length; c++)
        {
            for (var i = 0; i < perClass; i++)
            {
                var brightness = 30 + 180 * c / classNames.Length;
                var pixels = Enumerable.Range(0, Size * Size).Select(p => (byte)(brightness + (p + i) % 16)).ToArray();
                System.IO.File.WriteAllBytes(
                    folder.File(Path.Combine(subfolder, classNames[c], $"{i}.png")), GreyPng.Encode(pixels, Size, Size));
            }
        }
    }
}
