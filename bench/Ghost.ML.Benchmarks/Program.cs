using System.CommandLine;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Ghost.ML.Benchmarks.Accuracy;
using Ghost.ML.Benchmarks.Allocator;
using Ghost.ML.Benchmarks.Cache;
using Ghost.ML.Benchmarks.Estimators;
using Ghost.ML.Benchmarks.Layers;
using Ghost.ML.Benchmarks.Onnx;
using Ghost.ML.Benchmarks.Peer;
using Ghost.ML.Benchmarks.Reporting;
using Ghost.ML.Benchmarks.Training;
using Ghost.ML.Torch.Models;

// Commands: quick (the ./build.sh bench default), layers (BenchmarkDotNet), check (interleaved layer comparison),
// step (training step time and memory), memory (peak memory per process), allocator (glibc malloc settings),
// estimator (ML.NET training throughput), scoring (batched Transform), onnx (ONNX Runtime vs TorchSharp scoring),
// cache (training data path, cached vs streamed),
// accuracy (Fashion-MNIST study).
var fullOption = new Option<bool>("--full") { Description = "Every shape with G in {8, 16, 32, 64}, not just the two goal cases." };
var roundsOption = new Option<int>("--rounds") { Description = "Timed interleaved rounds.", DefaultValueFactory = _ => 7 };
var architectureOption = new Option<ResNetArchitecture>("--architecture") { Description = "Model of the training step.", DefaultValueFactory = _ => ResNetArchitecture.ResNet20 };
var batchSizeOption = new Option<int>("--batch-size") { Description = "Images per training step.", DefaultValueFactory = _ => 256 };
var imageSizeOption = new Option<int>("--image-size") { Description = "Image height and width.", DefaultValueFactory = _ => 32 };
var ghostBatchSizeOption = new Option<int>("--ghost-batch-size") { Description = "Ghost batch size of the ghost variant.", DefaultValueFactory = _ => 32 };
var repeatsOption = new Option<int>("--repeats") { Description = "Child processes per measured cell.", DefaultValueFactory = _ => 3 };
Option<int>[] stepOptions = [batchSizeOption, imageSizeOption, ghostBatchSizeOption, roundsOption];

StepOptions StepOptionsOf(ParseResult parse) => new(parse.GetValue(architectureOption), parse.GetValue(batchSizeOption),
    parse.GetValue(imageSizeOption), parse.GetValue(ghostBatchSizeOption), parse.GetValue(roundsOption));

var root = new RootCommand("Ghost.ML benchmarks (see BENCHMARKS.md).");

var quick = new Command("quick", "Everything short: BenchmarkDotNet on the goal cases, the interleaved check, one training-step comparison.");
quick.SetAction(_ =>
{
    RunLayerBenchmarks(LayerCase.Goals, shortJob: true);
    Report.Machine();
    Report.Layers(LayerCase.Goals.Select(c => LayerComparison.Measure(c, rounds: 5)).ToList());
    var options = new StepOptions(ResNetArchitecture.ResNet20, 256, 32, 32, Rounds: 3);
    Report.Step(options, StepComparison.Measure(options));
});

var shortOption = new Option<bool>("--short") { Description = "BenchmarkDotNet's short job (3 iterations) instead of its default job." };
var layers = new Command("layers", "BenchmarkDotNet: GhostBatchNorm vs BatchNorm vs the chunk loop.") { fullOption, shortOption };
layers.SetAction(parse => RunLayerBenchmarks(parse.GetValue(fullOption) ? LayerCase.Sweep().ToList() : LayerCase.Goals, parse.GetValue(shortOption)));

var minimumSecondsOption = new Option<double>("--min-seconds")
{
    Description = "Time each case for at least this long (more rounds for quick cases).",
    DefaultValueFactory = _ => 1.5,
};
var checkAllocatorOption = new Option<string>("--allocator")
{
    Description = "glibc malloc setting made with mallopt before measuring: default or mallopt-no-mmap (what TuneNativeAllocator sets).",
    DefaultValueFactory = _ => "default",
};
var check = new Command("check", "Interleaved layer comparison in one process (the independent check of goal 1).")
{
    fullOption, roundsOption, minimumSecondsOption, checkAllocatorOption,
};
check.SetAction(parse =>
{
    var setting = AllocatorSetting.Named(parse.GetValue(checkAllocatorOption)!);
    setting.ApplyInProcess();
    Report.Machine();
    Report.Allocator(setting);
    var cases = parse.GetValue(fullOption) ? LayerCase.Sweep() : LayerCase.Goals;
    var minimumTime = TimeSpan.FromSeconds(parse.GetValue(minimumSecondsOption));
    Report.Layers(cases.Select(c => LayerComparison.Measure(c, parse.GetValue(roundsOption), minimumTime)).ToList());
});

var step = new Command("step", "Training step with BatchNorm vs ghost layers: median time and peak memory, interleaved.") { architectureOption };
var allocator = new Command("allocator", "glibc malloc settings on the training step, one child process per setting.") { architectureOption, repeatsOption };
foreach (var option in stepOptions)
{
    step.Options.Add(option);
    allocator.Options.Add(option);
}

step.SetAction(parse =>
{
    Report.Machine();
    var options = StepOptionsOf(parse);
    Report.Step(options, StepComparison.Measure(options));
});
allocator.SetAction(parse =>
{
    Report.Machine();
    Report.Allocators(AllocatorComparison.Measure(StepOptionsOf(parse), parse.GetValue(repeatsOption)));
});

var memory = new Command("memory", "Peak memory of training, BatchNorm vs ghost layers, each alone in a process, per allocator setting.") { architectureOption, repeatsOption };
foreach (var option in stepOptions)
{
    memory.Options.Add(option);
}

memory.SetAction(parse =>
{
    Report.Machine();
    var options = StepOptionsOf(parse);
    Report.Memory(options, MemoryComparison.Measure(options, parse.GetValue(repeatsOption)));
});

var settingArgument = new Argument<string>("setting") { Description = "Allocator setting name." };
var allocatorChild = new Command(AllocatorComparison.ChildCommand, "Internal: one allocator measurement.") { settingArgument, architectureOption };
allocatorChild.Hidden = true;
foreach (var option in stepOptions)
{
    allocatorChild.Options.Add(option);
}

allocatorChild.SetAction(parse => AllocatorComparison.RunAsChild(AllocatorSetting.Named(parse.GetValue(settingArgument)!), StepOptionsOf(parse)));

var variantArgument = new Argument<string>("variant") { Description = "plain or ghost." };
var memoryChild = new Command(MemoryComparison.ChildCommand, "Internal: one memory measurement.") { settingArgument, variantArgument, architectureOption };
memoryChild.Hidden = true;
foreach (var option in stepOptions)
{
    memoryChild.Options.Add(option);
}

memoryChild.SetAction(parse => MemoryComparison.RunAsChild(AllocatorSetting.Named(parse.GetValue(settingArgument)!),
    parse.GetValue(variantArgument) == "ghost", StepOptionsOf(parse)));

var dataOption = new Option<string>("--data") { Description = "Fashion-MNIST IDX folder.", DefaultValueFactory = _ => "../shared/data/fashion-mnist" };
var outputOption = new Option<string>("--output") { Description = "Folder for accuracy.csv (appended to), accuracy-summary.md and accuracy.png.", DefaultValueFactory = _ => "artifacts/accuracy" };
var ghostSizesOption = new Option<int[]>("--ghost-batch-sizes") { Description = "Ghost batch sizes; 0 = plain BatchNorm.", DefaultValueFactory = _ => [0, 16, 32], AllowMultipleArgumentsPerToken = true };
var epochsOption = new Option<int>("--epochs") { Description = "Epochs per run.", DefaultValueFactory = _ => 3 };
var studyBatchOption = new Option<int>("--batch-size") { Description = "Images per step.", DefaultValueFactory = _ => 1024 };
var trainLimitOption = new Option<int?>("--train-limit") { Description = "Training images used (default: all 60 000)." };
var testLimitOption = new Option<int?>("--test-limit") { Description = "Test images used (default: all)." };
var seedsOption = new Option<int[]>("--seeds") { Description = "Seeds; every ghost batch size runs with each.", DefaultValueFactory = _ => [1, 2, 3], AllowMultipleArgumentsPerToken = true };
var reportOnlyOption = new Option<bool>("--report-only") { Description = "Only write accuracy-summary.md and accuracy.png again from the accuracy.csv in --output." };
var accuracy = new Command("accuracy", "ResNet-20 on Fashion-MNIST per ghost batch size and seed: test accuracy and time per epoch, CSV, summary and chart.")
{
    dataOption, outputOption, ghostSizesOption, epochsOption, studyBatchOption, trainLimitOption, testLimitOption, seedsOption,
    reportOnlyOption,
};
accuracy.SetAction(parse =>
{
    if (parse.GetValue(reportOnlyOption))
    {
        Console.Write(AccuracyStudy.WriteReport(parse.GetValue(outputOption)!, parse.GetValue(studyBatchOption)));
        return;
    }

    Report.Machine();
    var trainLimit = parse.GetValue(trainLimitOption);
    var options = new AccuracyOptions(parse.GetValue(dataOption)!, parse.GetValue(outputOption)!, parse.GetValue(ghostSizesOption)!,
        parse.GetValue(epochsOption), parse.GetValue(studyBatchOption), trainLimit,
        parse.GetValue(testLimitOption), parse.GetValue(seedsOption)!);
    var summary = AccuracyStudy.Run(options, r => Console.WriteLine(
        $"seed {r.Seed}  ghost {AccuracyCsv.Label(r.GhostBatchSize),4}  epoch {r.Epoch,2}  loss {r.TrainLoss:F4}  test accuracy {r.TestAccuracy:P2}  {r.Elapsed?.TotalSeconds:F0} s"));
    Console.Write(summary);
    Console.WriteLine($"Appended to {Path.GetFullPath(Path.Combine(options.OutputDirectory, AccuracyStudy.CsvFile))}; wrote accuracy-summary.md and accuracy.png");
});

var imagesOption = new Option<int>("--images") { Description = "Images per epoch: the first ones of Fashion-MNIST, or random ones without it.", DefaultValueFactory = _ => 512 };
var estimatorBatchOption = new Option<int>("--batch-size") { Description = "Images per training step.", DefaultValueFactory = _ => 128 };
var estimatorRoundsOption = new Option<int>("--rounds") { Description = "Timed interleaved rounds.", DefaultValueFactory = _ => 3 };
var tuneArgument = new Argument<bool>("tune-native-allocator") { Description = "TuneNativeAllocator." };
var scoringImagesOption = new Option<int>("--images") { Description = "Images trained on and scored: the first ones of Fashion-MNIST, or random ones without it.", DefaultValueFactory = _ => 512 };
var rowImagesOption = new Option<int>("--row-images") { Description = "Images scored one row per forward pass (slow: a few per second here).", DefaultValueFactory = _ => 16 };
Option[] estimatorOptions = [dataOption, estimatorBatchOption, ghostBatchSizeOption, estimatorRoundsOption];

EstimatorOptions EstimatorOptionsOf(ParseResult parse, Option<int> images) => new(parse.GetValue(dataOption)!, parse.GetValue(images),
    parse.GetValue(estimatorBatchOption), parse.GetValue(ghostBatchSizeOption), parse.GetValue(estimatorRoundsOption));

var estimator = new Command("estimator", "Epoch of GhostBatchNormImageClassifier vs a bare TorchSharp loop; TuneNativeAllocator on vs off.") { imagesOption, repeatsOption };
var estimatorChild = new Command(EstimatorThroughput.ChildCommand, "Internal: one estimator throughput measurement.") { tuneArgument, imagesOption };
estimatorChild.Hidden = true;
var scoring = new Command("scoring", "Batched Transform vs one row per forward pass vs the bare forward pass.") { scoringImagesOption, rowImagesOption };
foreach (var option in estimatorOptions)
{
    estimator.Options.Add(option);
    estimatorChild.Options.Add(option);
    scoring.Options.Add(option);
}

estimator.SetAction(parse =>
{
    Report.Machine();
    var options = EstimatorOptionsOf(parse, imagesOption);
    Report.Estimator(options, EstimatorThroughput.Compare(options), EstimatorThroughput.CompareAllocator(options, parse.GetValue(repeatsOption)));
});
estimatorChild.SetAction(parse => EstimatorThroughput.RunAsChild(EstimatorOptionsOf(parse, imagesOption), parse.GetValue(tuneArgument)));
scoring.SetAction(parse =>
{
    Report.Machine();
    var options = EstimatorOptionsOf(parse, scoringImagesOption);
    var rowImages = parse.GetValue(rowImagesOption);
    Report.Scoring(options, rowImages, ScoringThroughput.Measure(options, rowImages));
});

var peerImagesOption = new Option<int>("--images") { Description = "Images per epoch: the first ones of Fashion-MNIST's training set.", DefaultValueFactory = _ => 4096 };
var peerBatchSizesOption = new Option<int[]>("--batch-sizes") { Description = "Images per training step.", DefaultValueFactory = _ => [128, 1024], AllowMultipleArgumentsPerToken = true };
var pythonOption = new Option<string>("--python") { Description = "Python with PyTorch (apt-get install python3-torch).", DefaultValueFactory = _ => "/usr/bin/python3" };
var referenceScriptOption = new Option<string>("--reference-script") { Description = "The PyTorch reference.", DefaultValueFactory = _ => "bench/reference/composer_reference.py" };
var peerSpeed = new Command("peer-speed", "Training images/s: the estimator and a bare TorchSharp loop vs PyTorch with BatchNorm and with Composer's chunk loop.")
{
    dataOption, peerImagesOption, peerBatchSizesOption, ghostBatchSizeOption, estimatorRoundsOption, pythonOption, referenceScriptOption,
};
peerSpeed.SetAction(parse =>
{
    Report.Machine();
    var peer = new PeerOptions(parse.GetValue(pythonOption)!, parse.GetValue(referenceScriptOption)!);
    var options = parse.GetValue(peerBatchSizesOption)!.Select(batchSize => new EstimatorOptions(parse.GetValue(dataOption)!,
        parse.GetValue(peerImagesOption), batchSize, parse.GetValue(ghostBatchSizeOption), parse.GetValue(estimatorRoundsOption))).ToList();
    Report.PeerSpeed(options[0], options.Select(o => PeerSpeedComparison.Compare(o, peer)).ToList());
});

var onnx = new Command("onnx", "ONNX Runtime on the exported model vs the TorchSharp transformer, batched; deployment size of both.") { scoringImagesOption };
foreach (var option in estimatorOptions)
{
    onnx.Options.Add(option);
}

onnx.SetAction(parse =>
{
    Report.Machine();
    var options = EstimatorOptionsOf(parse, scoringImagesOption);
    Report.Onnx(options, OnnxScoringComparison.Measure(options),
    [
        DeploymentSize.Measure("TorchSharp + libtorch (CPU)", DeploymentSize.TorchSharpPackages),
        DeploymentSize.Measure("ONNX Runtime + OnnxTransformer", DeploymentSize.OnnxPackages),
    ]);
});

var cacheSizesOption = new Option<int[]>("--sizes") { Description = "Training set sizes (images).", DefaultValueFactory = _ => [2048, 8192, 32768], AllowMultipleArgumentsPerToken = true };
var cacheBatchOption = new Option<int>("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => 128 };
var cache = new Command("cache", "Training data path: first pass and one shuffled epoch, cached vs streamed, images/s and peak memory per process.")
{
    cacheSizesOption, imageSizeOption, cacheBatchOption,
};
cache.SetAction(parse =>
{
    Report.Machine();
    int imageSize = parse.GetValue(imageSizeOption), batchSize = parse.GetValue(cacheBatchOption);
    Report.Cache(imageSize, batchSize, CacheThroughput.Measure(parse.GetValue(cacheSizesOption)!, imageSize, batchSize));
});
var cacheImagesArgument = new Argument<int>("images") { Description = "Images in the training set." };
var cacheCaseArgument = new Argument<int>("case") { Description = "Index into CacheThroughput.Cases." };
var cacheChild = new Command(CacheThroughput.ChildCommand, "Internal: one cache measurement.") { cacheImagesArgument, cacheCaseArgument, imageSizeOption, cacheBatchOption };
cacheChild.Hidden = true;
cacheChild.SetAction(parse => CacheThroughput.RunAsChild(parse.GetValue(cacheImagesArgument), CacheThroughput.Cases[parse.GetValue(cacheCaseArgument)],
    parse.GetValue(imageSizeOption), parse.GetValue(cacheBatchOption)));

root.Subcommands.Add(quick);
root.Subcommands.Add(layers);
root.Subcommands.Add(check);
root.Subcommands.Add(step);
root.Subcommands.Add(allocator);
root.Subcommands.Add(allocatorChild);
root.Subcommands.Add(memory);
root.Subcommands.Add(memoryChild);
root.Subcommands.Add(estimator);
root.Subcommands.Add(estimatorChild);
root.Subcommands.Add(peerSpeed);
root.Subcommands.Add(scoring);
root.Subcommands.Add(onnx);
root.Subcommands.Add(cache);
root.Subcommands.Add(cacheChild);
root.Subcommands.Add(accuracy);
return root.Parse(args).Invoke();

static void RunLayerBenchmarks(IReadOnlyList<LayerCase> cases, bool shortJob)
{
    LayerBenchmarks.SelectedCases = cases;
    // In process: the native library is already loaded, and each pass is long (tens to hundreds of milliseconds),
    // so one invocation per iteration is enough.
    var job = (shortJob ? Job.ShortRun.WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(5) : Job.Default)
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithInvocationCount(1)
        .WithUnrollFactor(1);
    var config = DefaultConfig.Instance.AddJob(job).WithArtifactsPath(Path.Combine("artifacts", "benchmarks"));
    BenchmarkRunner.Run<LayerBenchmarks>(config);
}
