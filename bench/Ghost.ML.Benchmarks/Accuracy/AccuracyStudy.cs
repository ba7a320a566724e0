using System.Diagnostics;
using System.Globalization;
using Ghost.ML.Torch;
using Ghost.ML.Torch.Models;
using Ghost.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Benchmarks.Accuracy;

/// <summary>Settings of the accuracy study.</summary>
/// <param name="DataDirectory">Folder with the Fashion-MNIST IDX files.</param>
/// <param name="OutputDirectory">Where the CSV and the chart go.</param>
/// <param name="GhostBatchSizes">Ghost batch sizes compared; 0 stands for plain BatchNorm.</param>
/// <param name="Epochs">Training epochs per run.</param>
/// <param name="BatchSize">Images per training step.</param>
/// <param name="TrainLimit">Training images used (null = all 60 000).</param>
/// <param name="TestLimit">Test images used (null = all 10 000).</param>
/// <param name="Seed">Seed of the model initialisation and the shuffling, the same for every run.</param>
internal sealed record AccuracyOptions(string DataDirectory, string OutputDirectory, IReadOnlyList<int> GhostBatchSizes,
    int Epochs, int BatchSize, int? TrainLimit, int? TestLimit, int Seed);

/// <summary>One epoch of one run.</summary>
internal sealed record EpochResult(int GhostBatchSize, int Epoch, double TrainLoss, double TestAccuracy, TimeSpan Elapsed);

/// <summary>
/// ResNet-20 on Fashion-MNIST at a large batch, trained with the same schedule and seed for every ghost batch size:
/// SGD with Nesterov momentum 0.9, weight decay 5e-4, learning rate 0.1 · batch / 256 warmed up linearly over the
/// first epoch and decayed by a cosine to zero.
/// </summary>
internal static class AccuracyStudy
{
    /// <summary>Runs every ghost batch size in turn, writing <c>accuracy.csv</c> and <c>accuracy.png</c> as it goes.</summary>
    public static IReadOnlyList<EpochResult> Run(AccuracyOptions options, Action<EpochResult> onEpoch)
    {
        var train = FashionMnist.Load(options.DataDirectory, training: true, options.TrainLimit);
        var test = FashionMnist.Load(options.DataDirectory, training: false, options.TestLimit);
        Directory.CreateDirectory(options.OutputDirectory);
        var results = new List<EpochResult>();
        foreach (var ghostBatchSize in options.GhostBatchSizes)
        {
            foreach (var result in TrainOne(options, ghostBatchSize, train, test))
            {
                results.Add(result);
                onEpoch(result);
                WriteCsv(Path.Combine(options.OutputDirectory, "accuracy.csv"), results);
            }
        }

        AccuracyChart.Save(Path.Combine(options.OutputDirectory, "accuracy.png"), ChartTitle(options.BatchSize), results);
        return results;
    }

    private static IEnumerable<EpochResult> TrainOne(AccuracyOptions options, int ghostBatchSize, FashionMnist train, FashionMnist test)
    {
        manual_seed(options.Seed);
        using var model = ResNetFactory.Create(ResNetArchitecture.ResNet20, numClasses: 10, inputChannels: 1);
        var peakRate = 0.1 * options.BatchSize / 256;
        using var optimizer = optim.SGD(model.parameters(), peakRate, momentum: 0.9, weight_decay: 5e-4, nesterov: true);
        if (ghostBatchSize > 0)
        {
            model.ApplyGhostBatchNorm(ghostBatchSize, optimizer);
        }

        var count = train.Images.shape[0];
        var stepsPerEpoch = (int)((count + options.BatchSize - 1) / options.BatchSize);
        var totalSteps = stepsPerEpoch * options.Epochs;
        var schedule = new WarmupCosineSchedule(peakRate, stepsPerEpoch, totalSteps, cosine: true);
        var step = 0;
        using var shuffle = new Generator((ulong)options.Seed);
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var watch = Stopwatch.StartNew();
            model.train();
            using var order = randperm(count, generator: shuffle);
            double lossSum = 0;
            for (long start = 0; start < count; start += options.BatchSize, step++)
            {
                using var scope = NewDisposeScope();
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = schedule.At(step);
                }

                var indices = order.narrow(0, start, Math.Min(options.BatchSize, count - start));
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.call(train.Images.index_select(0, indices)), train.Labels.index_select(0, indices));
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>() * indices.shape[0];
            }

            yield return new EpochResult(ghostBatchSize, epoch, lossSum / count, Evaluate(model, test), watch.Elapsed);
        }
    }

    private static double Evaluate(nn.Module<Tensor, Tensor> model, FashionMnist test)
    {
        model.eval();
        using var noGrad = no_grad();
        long correct = 0;
        var count = test.Images.shape[0];
        for (long start = 0; start < count; start += 1000)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(1000, count - start);
            var predicted = model.call(test.Images.narrow(0, start, length)).argmax(1);
            correct += predicted.eq(test.Labels.narrow(0, start, length)).sum().item<long>();
        }

        return (double)correct / count;
    }

    /// <summary>Draws <c>accuracy.png</c> again from the <c>accuracy.csv</c> of an earlier run in <paramref name="outputDirectory"/>.</summary>
    public static void RedrawChart(string outputDirectory, string title)
    {
        var results = File.ReadLines(Path.Combine(outputDirectory, "accuracy.csv")).Skip(1)
            .Select(line => line.Split(','))
            .Select(fields => new EpochResult(fields[0] == "none" ? 0 : int.Parse(fields[0], CultureInfo.InvariantCulture),
                int.Parse(fields[1], CultureInfo.InvariantCulture), double.Parse(fields[2], CultureInfo.InvariantCulture),
                double.Parse(fields[3], CultureInfo.InvariantCulture),
                TimeSpan.FromSeconds(double.Parse(fields[4], CultureInfo.InvariantCulture))))
            .ToList();
        AccuracyChart.Save(Path.Combine(outputDirectory, "accuracy.png"), title, results);
    }

    /// <summary>The chart's title.</summary>
    public static string ChartTitle(int batchSize) => $"ResNet-20 on Fashion-MNIST, batch {batchSize}";

    private static void WriteCsv(string path, IEnumerable<EpochResult> results) => File.WriteAllLines(path,
        results.Select(r => string.Create(CultureInfo.InvariantCulture,
                $"{Label(r.GhostBatchSize)},{r.Epoch},{r.TrainLoss:F5},{r.TestAccuracy:F4},{r.Elapsed.TotalSeconds:F1}"))
            .Prepend("ghost_batch_size,epoch,train_loss,test_accuracy,epoch_seconds"));

    /// <summary>"none" for plain BatchNorm, else the ghost batch size.</summary>
    public static string Label(int ghostBatchSize) => ghostBatchSize == 0 ? "none" : ghostBatchSize.ToString(CultureInfo.InvariantCulture);
}
