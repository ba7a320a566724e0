using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests;

[TestClass]
public sealed class GhostBatchLayoutTests
{
    [TestMethod]
    [DataRow(70, 32, 4L, new[] { 24, 24, 22 })]     // Composer's example: not 32 / 32 / 6
    [DataRow(33, 32, 4L, new[] { 17, 16 })]         // ceil(N / k) far below G
    [DataRow(100, 32, 1L, new[] { 25, 25, 25, 25 })]
    [DataRow(65, 16, 9L, new[] { 13, 13, 13, 13, 13 })]
    [DataRow(128, 32, 1L, new[] { 32, 32, 32, 32 })] // G divides N: nothing changes
    [DataRow(10, 3, 5L, new[] { 3, 3, 3, 1 })]      // a one-sample last chunk of several values stays
    [DataRow(10, 3, 1L, new[] { 3, 3, 4 })]         // a one-value last chunk joins the one before
    [DataRow(9, 1, 1L, new[] { 2, 2, 2, 3 })]       // G = 1 on one-value rows acts as 2
    [DataRow(9, 1, 4L, new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1 })]
    [DataRow(3, 2, 1L, new[] { 3 })]               // 2 + 1 merged: one ghost batch
    [DataRow(32, 32, 1L, new[] { 32 })]             // N <= G: plain BatchNorm
    [DataRow(5, 32, 1L, new[] { 5 })]
    public void CutsLikeComposer(int batch, int ghostBatchSize, long valuesPerSample, int[] expected)
    {
        var layout = GhostBatchLayout.Create(batch, ghostBatchSize, valuesPerSample);
        CollectionAssert.AreEqual(expected, layout.Sizes.ToArray());
        Assert.AreEqual(expected.Length, layout.Count);
        Assert.AreEqual(batch, layout.BatchSize);
        var starts = Enumerable.Range(0, layout.Count).Select(j => layout.Start(j)).ToArray();
        CollectionAssert.AreEqual(expected.Select((_, j) => (long)expected.Take(j).Sum()).ToArray(), starts);
    }

    [TestMethod]
    public void MatchesTorchChunkForEveryBatchUpTo200()
    {
        for (var batch = 2; batch <= 200; batch++)
        {
            foreach (var ghostBatchSize in new[] { 2, 3, 5, 7, 8, 16, 32, 33, 64 })
            {
                var chunks = (batch + ghostBatchSize - 1) / ghostBatchSize;
                var expected = arange(batch).chunk(chunks).Select(chunk => (int)chunk.shape[0]).ToArray();
                var layout = GhostBatchLayout.Create(batch, ghostBatchSize, valuesPerSample: 3);
                CollectionAssert.AreEqual(expected, layout.Sizes.ToArray(), $"N = {batch}, G = {ghostBatchSize}");
            }
        }
    }

    [TestMethod]
    public void NoGhostBatchOfOneValueRowsHasASingleSample()
    {
        for (var batch = 2; batch <= 200; batch++)
        {
            for (var ghostBatchSize = 1; ghostBatchSize <= 40; ghostBatchSize++)
            {
                var sizes = GhostBatchLayout.Create(batch, ghostBatchSize, valuesPerSample: 1).Sizes.ToArray();
                Assert.IsTrue(sizes.All(size => size >= 2), $"N = {batch}, G = {ghostBatchSize}: {string.Join(", ", sizes)}");
                Assert.AreEqual(batch, sizes.Sum());
            }
        }
    }

    [TestMethod]
    public void NonPositiveSizesAreRejected()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GhostBatchLayout.Create(0, 4, 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GhostBatchLayout.Create(8, 0, 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GhostBatchLayout.Create(8, 4, 0));
    }
}
