using Ghost.ML.Training;

namespace Ghost.ML.Tests.Training;

/// <summary>The cache's index arithmetic past 2 GiB and 2^31 rows, computed without allocating anything.</summary>
[TestClass]
public sealed class ChunkLayoutTests
{
    private const long ColourImage224 = 3 * 224 * 224;

    [TestMethod]
    public void RowsPerChunkFollowTheChunkSizeWithinBounds()
    {
        Assert.AreEqual(445, new ChunkLayout(ColourImage224, 64L << 20).RowsPerChunk);
        Assert.AreEqual(ChunkLayout.MaxRowsPerChunk, new ChunkLayout(3 * 32 * 32, 64L << 20).RowsPerChunk);
        Assert.AreEqual(1, new ChunkLayout(ColourImage224, 1000).RowsPerChunk, "a sample larger than a chunk gets a chunk of its own");
    }

    [TestMethod]
    public void FifteenThousandColourImagesOf224PixelsPassTwoGiBWithoutOverflow()
    {
        var layout = new ChunkLayout(ColourImage224, 64L << 20);
        Assert.AreEqual(2_257_920_000L, layout.BytesFor(15_000));
        Assert.IsGreaterThan((long)int.MaxValue, layout.BytesFor(15_000));
        Assert.AreEqual(34L, layout.ChunkCount(15_000));
        Assert.AreEqual((33, 314), layout.Locate(14_999));
    }

    [TestMethod]
    public void ChunkBoundaries()
    {
        var layout = new ChunkLayout(sampleBytes: 10, chunkBytes: 30);
        Assert.AreEqual(3, layout.RowsPerChunk);
        Assert.AreEqual((0, 2), layout.Locate(2));
        Assert.AreEqual((1, 0), layout.Locate(3));
        Assert.AreEqual(2L, layout.ChunkCount(6));
        Assert.AreEqual(3L, layout.ChunkCount(7));
    }

    [TestMethod]
    public void RowsPastInt32AreLocatedWithLongArithmetic()
    {
        var layout = new ChunkLayout(sampleBytes: 1, chunkBytes: ChunkLayout.MaxRowsPerChunk);
        long row = 3L * int.MaxValue;
        Assert.AreEqual(((int)(row / ChunkLayout.MaxRowsPerChunk), (int)(row % ChunkLayout.MaxRowsPerChunk)), layout.Locate(row));
        Assert.AreEqual(row, layout.BytesFor(row));
        Assert.ThrowsExactly<OverflowException>(() => new ChunkLayout(ColourImage224, 64L << 20).BytesFor(long.MaxValue / 1000));
    }

    [TestMethod]
    public void StreamingPoolIsWholeBatchesWithinTheBudget()
    {
        var layout = new ChunkLayout(ColourImage224, 64L << 20);
        Assert.AreEqual(14_208, layout.PoolRows(2L << 30, batchSize: 128), "2 GiB of 224-pixel colour images, in batches of 128");
        Assert.AreEqual(128, layout.PoolRows(0, batchSize: 128), "at least one batch");
        Assert.AreEqual(int.MaxValue / 256 * 256, new ChunkLayout(1, 1).PoolRows(long.MaxValue, batchSize: 256));
    }
}
