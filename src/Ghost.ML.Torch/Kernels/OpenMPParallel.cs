using System.Runtime.InteropServices;

namespace Ghost.ML.Torch;

/// <summary>
/// Runs parallel loops on libtorch's own OpenMP threads (GNU libgomp's <c>GOMP_parallel</c>) instead of .NET's thread
/// pool.
/// </summary>
/// <remarks>
/// After each parallel operator libgomp's worker threads keep spinning for a while, waiting for the next one. A .NET
/// thread-pool worker started in that window shares a core with a spinning thread and runs at a fraction of its
/// speed, which cost a ResNet-20 training step several percent with <see cref="Parallel"/>. Handing the loop to the
/// spinning threads themselves avoids that. Only libgomp (libtorch on Linux) is looked for; elsewhere
/// <see cref="IsAvailable"/> is false and callers use <see cref="Parallel"/>.
/// </remarks>
internal static unsafe class OpenMPParallel
{
    private static nint _gompParallel;
    private static volatile bool _searched;

    /// <summary>
    /// Whether loops go to .NET's thread pool even where libgomp is found, as they do on Windows and macOS; for tests
    /// of that path.
    /// </summary>
    internal static bool ForceThreadPool { get; set; }

    /// <summary>Whether loops run on libtorch's libgomp threads: it was found and <see cref="ForceThreadPool"/> is off.</summary>
    /// <remarks>
    /// The search runs on first use once libtorch is loaded; asked earlier, the answer is false and the search is
    /// repeated next time rather than remembered.
    /// </remarks>
    public static bool IsAvailable => !ForceThreadPool && GompParallel() != 0;

    /// <summary>Runs <paramref name="body"/>(i) for every i below <paramref name="count"/> on up to <paramref name="threads"/> OpenMP threads.</summary>
    /// <remarks>Items are handed out one at a time from a shared counter, so uneven items balance out.</remarks>
    /// <exception cref="InvalidOperationException">libgomp was not found (see <see cref="IsAvailable"/>).</exception>
    public static void For(int count, int threads, Action<int> body)
    {
        var gompParallel = (delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void>)GompParallel();
        if (gompParallel == null)
        {
            throw new InvalidOperationException("libtorch's libgomp is not loaded in this process.");
        }

        var loop = new Loop(count, body);
        var handle = GCHandle.Alloc(loop);
        try
        {
            gompParallel(&RunWorker, (void*)GCHandle.ToIntPtr(handle), (uint)threads, 0);
        }
        finally
        {
            handle.Free();
        }

        if (loop.Failure is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>
    /// The mapped file that is libtorch's CPU library (<c>libtorch_cpu.so</c>), or null before libtorch is loaded.
    /// </summary>
    /// <param name="mappedFiles">Paths of the files mapped into the process.</param>
    internal static string? LibtorchCpu(IEnumerable<string> mappedFiles) =>
        mappedFiles.FirstOrDefault(file => Path.GetFileName(file).StartsWith("libtorch_cpu.", StringComparison.Ordinal));

    [UnmanagedCallersOnly]
    private static void RunWorker(void* data)
    {
        var loop = (Loop)GCHandle.FromIntPtr((nint)data).Target!;
        try
        {
            int item;
            while ((item = Interlocked.Increment(ref loop.Next) - 1) < loop.Count && loop.Failure is null)
            {
                loop.Body(item);
            }
        }
        catch (Exception exception)
        {
            // An exception must not unwind into libgomp: it is kept and rethrown on the calling thread.
            loop.Failure ??= exception;
        }
    }

    /// <summary>libgomp's <c>GOMP_parallel</c> as libtorch resolves it, or zero (not on Linux, or libtorch not loaded yet).</summary>
    internal static nint GompParallel()
    {
        if (_searched)
        {
            return _gompParallel;
        }

        if (!OperatingSystem.IsLinux())
        {
            _searched = true;
            return 0;
        }

        string? libtorch;
        try
        {
            libtorch = LibtorchCpu(File.ReadLines("/proc/self/maps")
                .Select(line => line[(line.IndexOf('/') is var slash and >= 0 ? slash : line.Length)..]));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Without /proc (some sandboxes) the loops stay on .NET's thread pool.
            _searched = true;
            return 0;
        }

        if (libtorch is null)
        {
            // Not loaded yet: not an answer to remember.
            return 0;
        }

        // dlsym through libtorch's own handle searches libtorch and its dependencies, so the libgomp found is the one
        // libtorch is linked against (it ships its own under a hashed name), never another library's copy.
        _gompParallel = NativeLibrary.TryLoad(libtorch, out var library)
            && NativeLibrary.TryGetExport(library, "GOMP_parallel", out var export)
                ? export
                : 0;
        _searched = true;
        return _gompParallel;
    }

    private sealed class Loop(int count, Action<int> body)
    {
        public readonly int Count = count;
        public readonly Action<int> Body = body;
        public int Next;
        public volatile Exception? Failure;
    }
}
