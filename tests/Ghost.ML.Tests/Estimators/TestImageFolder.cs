using SkiaSharp;

namespace Ghost.ML.Tests.Estimators;

/// <summary>A row of an image data set as the canonical pipeline reads it: a file name and a class name.</summary>
public sealed class ImageRow
{
    public string ImagePath { get; set; } = string.Empty;

    public string Label { get; set; } = string.Empty;
}

/// <summary>
/// Writes a small two-class image set to a temporary folder, deleted on dispose: class "top" is bright in its upper
/// half, class "bottom" in its lower half (a signal that survives horizontal flips and grey conversion), with noise.
/// Files alternate PNG and JPEG, grey and colour (or are all grey), and sizes from 10 to 21 pixels.
/// </summary>
internal sealed class TestImageFolder : IDisposable
{
    public TestImageFolder(int imagesPerClass, int seed = 1, bool allGrey = false)
    {
        Path = Directory.CreateTempSubdirectory("ghostml-images-").FullName;
        var random = new Random(seed);
        var rows = new List<ImageRow>();
        for (int i = 0; i < imagesPerClass; i++)
        {
            foreach (var label in new[] { "top", "bottom" })
            {
                int index = rows.Count;
                bool grey = allGrey || index % 3 == 0;
                bool jpeg = index % 2 == 1;
                int width = 10 + (index % 12), height = 10 + ((index * 5) % 12);
                string name = $"{label}-{i}.{(jpeg ? "jpg" : "png")}";
                WriteImage(System.IO.Path.Combine(Path, name), width, height, brightTop: label == "top", grey, jpeg, random);
                rows.Add(new ImageRow { ImagePath = name, Label = label });
            }
        }

        Rows = rows;
    }

    public string Path { get; }

    public IReadOnlyList<ImageRow> Rows { get; }

    /// <summary>Writes a file that is not an image.</summary>
    public ImageRow AddBrokenImage(string label)
    {
        string name = $"broken-{Guid.NewGuid():N}.png";
        File.WriteAllBytes(System.IO.Path.Combine(Path, name), [1, 2, 3, 4, 5]);
        return new ImageRow { ImagePath = name, Label = label };
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);

    private static void WriteImage(string path, int width, int height, bool brightTop, bool grey, bool jpeg, Random random)
    {
        var info = new SKImageInfo(width, height, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        byte tint = (byte)random.Next(0, 80);
        for (int y = 0; y < height; y++)
        {
            bool bright = (y < height / 2) == brightTop;
            for (int x = 0; x < width; x++)
            {
                byte level = (byte)Math.Clamp((bright ? 200 : 40) + random.Next(-30, 31), 0, 255);
                bitmap.SetPixel(x, y, grey ? new SKColor(level, level, level) : new SKColor(level, (byte)Math.Min(255, level + tint), (byte)(255 - tint)));
            }
        }

        using var data = bitmap.Encode(jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 95);
        File.WriteAllBytes(path, data.ToArray());
    }
}
