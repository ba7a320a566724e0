// Few, short tests; ONNX Runtime already uses the cores inside each.
[assembly: DoNotParallelize]
