using System.Diagnostics;
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
/// <param name="Seeds">Seeds of the model initialisation and the shuffling; every ghost batch size runs with each.</param>
internal sealed record AccuracyOptions(string DataDirectory, string OutputDirectory, IReadOnlyList<int> GhostBatchSizes,
    int Epochs, int BatchSize, int? TrainLimit, int? TestLimit, IReadOnlyList<int> Seeds);

/// <summary>
/// ResNet-20 on Fashion-MNIST at a large batch, trained with the same schedule and seeds for every ghost batch size:
/// SGD with Nesterov momentum 0.9, weight decay 5e-4, learning rate 0.1 · batch / 256 warmed up linearly over the
/// first epoch and decayed by a cosine to zero.
/// </summary>
internal static class AccuracyStudy
{
    /// <summary>File name of the results, in the output folder.</summary>
    public const string CsvFile = "accuracy.csv";

    /// <summary>
    /// Runs every ghost batch size with every seed in turn, appending each epoch to <c>accuracy.csv</c> as it ends, then
    /// writes the report over the whole file (see <see cref="WriteReport"/>).
    /// </summary>
    /// <returns>The summary table.</returns>
    public static string Run(AccuracyOptions options, Action<EpochResult> onEpoch)
    {
        var train = FashionMnist.Load(options.DataDirectory, training: true, options.TrainLimit);
        var test = FashionMnist.Load(options.DataDirectory, training: false, options.TestLimit);
        Directory.CreateDirectory(options.OutputDirectory);
        foreach (var seed in options.Seeds)
        {
            foreach (var ghostBatchSize in options.GhostBatchSizes)
            {
                foreach (var result in TrainOne(options, seed, ghostBatchSize, train, test))
                {
                    onEpoch(result);
                    AccuracyCsv.Append(Path.Combine(options.OutputDirectory, CsvFile), result);
                }
            }
        }

        return WriteReport(options.OutputDirectory, options.BatchSize);
    }

    /// <summary>
    /// Reads every row of <c>accuracy.csv</c> in <paramref name="outputDirectory"/> (this project's and any the
    /// reference script appended), writes <c>accuracy-summary.md</c> and draws <c>accuracy.png</c>.
    /// </summary>
    /// <returns>The summary table.</returns>
    public static string WriteReport(string outputDirectory, int batchSize)
    {
        var results = AccuracyCsv.Read(Path.Combine(outputDirectory, CsvFile));
        var summaries = AccuracySummary.Summarize(results);
        var table = AccuracySummary.ToMarkdown(summaries);
        File.WriteAllText(Path.Combine(outputDirectory, "accuracy-summary.md"), table);
        AccuracyChart.Save(Path.Combine(outputDirectory, "accuracy.png"), $"ResNet-20 on Fashion-MNIST, batch {batchSize}", results, summaries);
        return table;
    }

    private static IEnumerable<EpochResult> TrainOne(AccuracyOptions options, int seed, int ghostBatchSize, FashionMnist train, FashionMnist test)
    {
        manual_seed(seed);
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
        using var shuffle = new Generator((ulong)seed);
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

            yield return new EpochResult(AccuracyCsv.Ours, seed, ghostBatchSize, epoch, lossSum / count, Evaluate(model, test), watch.Elapsed);
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
}
