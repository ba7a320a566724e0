// TorchSharp's global state (default dtype, seeds, thread count) is process-wide: run test classes one at a time.
[assembly: DoNotParallelize]
