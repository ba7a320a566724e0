using Ghost.ML.Torch;
using static TorchSharp.torch;

namespace Ghost.ML.Torch.Tests;

[TestClass]
public sealed class OpenMPParallelTests
{
    [TestInitialize]
    public void LoadLibtorch() => ones(1).Dispose();

    [TestMethod]
    public void LibtorchsOpenMPIsFoundOnLinux()
    {
        Assert.AreEqual(OperatingSystem.IsLinux(), OpenMPParallel.IsAvailable);
    }

    [TestMethod]
    public void EveryItemRunsExactlyOnceAcrossThreads()
    {
        if (!OpenMPParallel.IsAvailable)
        {
            Assert.Inconclusive("No libgomp in this process.");
        }

        var runs = new int[1000];
        var threadIds = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        OpenMPParallel.For(runs.Length, threads: 2, item =>
        {
            Interlocked.Increment(ref runs[item]);
            threadIds[Environment.CurrentManagedThreadId] = true;
            Thread.SpinWait(1000);
        });
        Assert.IsTrue(runs.All(count => count == 1), "every item once");
        Assert.AreEqual(2, threadIds.Count, "threads that ran items");
    }

    [TestMethod]
    public void AnExceptionInTheBodyIsRethrownOnTheCaller()
    {
        if (!OpenMPParallel.IsAvailable)
        {
            Assert.Inconclusive("No libgomp in this process.");
        }

        var thrown = Assert.ThrowsExactly<InvalidOperationException>(() =>
            OpenMPParallel.For(100, threads: 2, item =>
            {
                if (item == 42)
                {
                    throw new InvalidOperationException("item 42");
                }
            }));
        Assert.AreEqual("item 42", thrown.Message);
    }
}
