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
    public void TheLibgompFoundIsTheOneNextToLibtorch()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Inconclusive("libgomp is looked for on Linux only.");
        }

        var address = (ulong)OpenMPParallel.GompParallel();
        var maps = File.ReadLines("/proc/self/maps").Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries)).ToList();
        var owner = maps.Single(fields =>
        {
            var range = fields[0].Split('-');
            return Convert.ToUInt64(range[0], 16) <= address && address < Convert.ToUInt64(range[1], 16);
        });
        var libtorch = OpenMPParallel.LibtorchCpu(maps.Where(fields => fields.Length == 6).Select(fields => fields[5].Trim()));
        StringAssert.StartsWith(Path.GetFileName(owner[5].Trim()), "libgomp");
        Assert.AreEqual(Path.GetDirectoryName(libtorch), Path.GetDirectoryName(owner[5].Trim()), "libgomp's directory");
    }

    [TestMethod]
    public void LibtorchIsRecognisedAmongMappedFilesAndAbsentBeforeItLoads()
    {
        string[] beforeLibtorch = ["/usr/lib/x86_64-linux-gnu/libgomp.so.1", "/usr/lib/x86_64-linux-gnu/libc.so.6"];
        Assert.IsNull(OpenMPParallel.LibtorchCpu(beforeLibtorch));
        string[] afterLibtorch = [.. beforeLibtorch, "/app/runtimes/linux-x64/native/libtorch_cpu.so"];
        Assert.AreEqual("/app/runtimes/linux-x64/native/libtorch_cpu.so", OpenMPParallel.LibtorchCpu(afterLibtorch));
    }

    [TestMethod]
    public void ThreadPoolFallbackGivesTheOpenMPResultBitForBit()
    {
        manual_seed(3);
        var input = randn(48, 40, 6, 7);
        var upstream = randn(input.shape);
        var openMP = ForwardAndBackward();
        OpenMPParallel.ForceThreadPool = true;
        try
        {
            Assert.IsFalse(OpenMPParallel.IsAvailable, "the fallback is forced");
            var threadPool = ForwardAndBackward();
            Assert.IsTrue(openMP.output.equal(threadPool.output).all().item<bool>(), "output");
            Assert.IsTrue(openMP.gradient.equal(threadPool.gradient).all().item<bool>(), "input gradient");
        }
        finally
        {
            OpenMPParallel.ForceThreadPool = false;
        }

        (Tensor output, Tensor gradient) ForwardAndBackward()
        {
            var previous = get_num_threads();
            set_num_threads(2);
            try
            {
                using var layer = new GhostBatchNorm2d(40, ghostBatchSize: 5);
                layer.train();
                var x = input.clone().requires_grad_();
                var output = layer.forward(x);
                (output * upstream).sum().backward();
                return (output.detach(), x.grad!);
            }
            finally
            {
                set_num_threads(previous);
            }
        }
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
