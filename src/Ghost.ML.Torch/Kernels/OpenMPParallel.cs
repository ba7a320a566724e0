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
    private static readonly delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void> GompParallel =
        FindGompParallel();

    /// <summary>Whether libtorch's libgomp was found in this process.</summary>
    public static bool IsAvailable => GompParallel != null;

    /// <summary>Runs <paramref name="body"/>(i) for every i below <paramref name="count"/> on up to <paramref name="threads"/> OpenMP threads.</summary>
    /// <remarks>Items are handed out one at a time from a shared counter, so uneven items balance out.</remarks>
    public static void For(int count, int threads, Action<int> body)
    {
        var loop = new Loop(count, body);
        var handle = GCHandle.Alloc(loop);
        try
        {
            GompParallel(&RunWorker, (void*)GCHandle.ToIntPtr(handle), (uint)threads, 0);
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

    /// <summary>libgomp's <c>GOMP_parallel</c>, if a libgomp is loaded into this process (Linux only).</summary>
    private static delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void> FindGompParallel()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // libtorch ships its own libgomp under a hashed name; the copy already mapped is the one its threads run in.
        string? path;
        try
        {
            path = File.ReadLines("/proc/self/maps")
                .Select(line => line[(line.IndexOf('/') is var slash and >= 0 ? slash : line.Length)..])
                .FirstOrDefault(file => Path.GetFileName(file).StartsWith("libgomp", StringComparison.Ordinal));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Without /proc (some sandboxes) the loops simply stay on .NET's thread pool.
            path = null;
        }

        return path is not null
            && NativeLibrary.TryLoad(path, out var library)
            && NativeLibrary.TryGetExport(library, "GOMP_parallel", out var export)
            ? (delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void>)export
            : null;
    }

    private sealed class Loop(int count, Action<int> body)
    {
        public readonly int Count = count;
        public readonly Action<int> Body = body;
        public int Next;
        public volatile Exception? Failure;
    }
}
