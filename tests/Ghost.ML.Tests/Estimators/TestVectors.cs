using Microsoft.ML.Data;

namespace Ghost.ML.Tests.Estimators;

/// <summary>A row of pixels already decoded: 1×8×8 floats and a class name.</summary>
public sealed class PixelRow
{
    public const int Size = 64;

    [VectorType(Size)]
    public float[] Features { get; set; } = [];

    public string Label { get; set; } = string.Empty;
}

/// <summary>Two-class 1×8×8 pixel vectors: "top" is bright in the upper half, "bottom" in the lower half, plus noise.</summary>
internal static class TestVectors
{
    public static List<PixelRow> Rows(int rowsPerClass, int seed = 3)
    {
        var random = new Random(seed);
        var rows = new List<PixelRow>();
        for (int i = 0; i < rowsPerClass; i++)
        {
            foreach (var label in new[] { "top", "bottom" })
            {
                var pixels = new float[PixelRow.Size];
                for (int p = 0; p < pixels.Length; p++)
                {
                    bool upper = p < PixelRow.Size / 2;
                    pixels[p] = (upper == (label == "top") ? 0.8f : 0.2f) + (float)((random.NextDouble() - 0.5) * 0.3);
                }

                rows.Add(new PixelRow { Features = pixels, Label = label });
            }
        }

        return rows;
    }
}
