using System.Runtime.InteropServices;
using Ghost.ML.Hosting;
using Ghost.ML.Tests.Estimators;
using Microsoft.ML;

namespace Ghost.ML.Tests.Hosting;

/// <summary>
/// TuneNativeAllocator changes glibc's malloc only while Fit runs. Observed through glibc itself: with its defaults a
/// 64 MiB block is served by mmap (mallinfo2's count of mmapped blocks rises); with the tuning it comes from the heap.
/// </summary>
[TestClass]
public sealed unsafe class NativeAllocatorTuningTests : SingleThreadedTorchTests
{
    /// <summary>
    /// Above glibc's largest dynamic mmap threshold (32 MiB), so the default always maps it, and below the 64 MiB
    /// heaps of glibc's thread arenas, which map larger blocks whatever the setting.
    /// </summary>
    private const int LargeBlock = 40 << 20;

    [TestMethod]
    public void LeasesAreCountedAndTheLastRestoresGlibcsSetting()
    {
        var mallinfo2 = Mallinfo2OrSkip();
        Assert.IsTrue(LargeBlockIsMapped(mallinfo2), "glibc's default maps a large block");

        var first = NativeAllocatorTuning.Acquire();
        Assert.IsNotNull(first);
        Assert.IsFalse(LargeBlockIsMapped(mallinfo2), "tuned: from the heap");
        var second = NativeAllocatorTuning.Acquire();
        first.Dispose();
        first.Dispose();
        Assert.IsFalse(LargeBlockIsMapped(mallinfo2), "a second Fit still runs (disposing a lease twice counts once)");
        second!.Dispose();

        Assert.IsTrue(LargeBlockIsMapped(mallinfo2), "restored when the last Fit returned");
        Assert.AreEqual(0, NativeAllocatorTuning.Holders);
    }

    [TestMethod]
    public void FitRestoresGlibcsSettingWhenItReturns()
    {
        var mallinfo2 = Mallinfo2OrSkip();
        var mlContext = new MLContext(seed: 1);
        var data = GhostBatchNormTrainerTests.KeyedPixels(mlContext, TestVectors.Rows(4));
        var mappedDuringFit = new List<bool>();
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.Epoch = 1;
        options.MetricsCallback = _ => mappedDuringFit.Add(LargeBlockIsMapped(mallinfo2));

        using var model = new GhostBatchNormTrainer(mlContext, GhostBatchNormTrainerTests.SmallModel, options).Fit(data);

        CollectionAssert.AreEqual(new[] { false }, mappedDuringFit, "tuned while training");
        Assert.IsTrue(LargeBlockIsMapped(mallinfo2), "restored after Fit");
    }

    /// <summary>Whether malloc serves a large block with its own mmap (glibc's default) rather than from the heap.</summary>
    private static bool LargeBlockIsMapped(delegate* unmanaged<MallInfo2> mallinfo2)
    {
        nuint before = mallinfo2().hblks;
        void* block = NativeMemory.Alloc(LargeBlock);
        try
        {
            return mallinfo2().hblks > before;
        }
        finally
        {
            NativeMemory.Free(block);
        }
    }

    private static delegate* unmanaged<MallInfo2> Mallinfo2OrSkip()
    {
        nint export = 0;
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out var libc) || !NativeLibrary.TryGetExport(libc, "mallinfo2", out export))
        {
            Assert.Inconclusive("glibc 2.33 or newer (mallinfo2) is needed to observe malloc.");
        }

        return (delegate* unmanaged<MallInfo2>)export;
    }

    /// <summary>glibc's <c>struct mallinfo2</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena;
        public nuint ordblks;
        public nuint smblks;
        public nuint hblks;
        public nuint hblkhd;
        public nuint usmblks;
        public nuint fsmblks;
        public nuint uordblks;
        public nuint fordblks;
        public nuint keepcost;
    }
}
