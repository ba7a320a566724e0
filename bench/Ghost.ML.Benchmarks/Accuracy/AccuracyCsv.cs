using System.Globalization;

namespace Ghost.ML.Benchmarks.Accuracy;

/// <summary>One epoch of one run.</summary>
/// <param name="Implementation">Who trained: <see cref="AccuracyCsv.Ours"/>, or the reference script's name.</param>
/// <param name="Seed">Seed of the run's initialisation and shuffling.</param>
/// <param name="GhostBatchSize">Ghost batch size; 0 for plain BatchNorm.</param>
/// <param name="Epoch">Epoch number, from 1.</param>
/// <param name="TrainLoss">Mean training loss over the epoch; null where a run did not record it.</param>
/// <param name="TestAccuracy">Test accuracy after the epoch, from 0 to 1.</param>
/// <param name="Elapsed">Time of the epoch's training and test pass; null where a run did not record it.</param>
internal sealed record EpochResult(string Implementation, int Seed, int GhostBatchSize, int Epoch, double? TrainLoss,
    double TestAccuracy, TimeSpan? Elapsed);

/// <summary>
/// The study's results file, one row per epoch, in the columns <c>bench/reference/composer_reference.py</c> writes too,
/// so both implementations append to the same file.
/// </summary>
internal static class AccuracyCsv
{
    /// <summary>The implementation name of this project's rows.</summary>
    public const string Ours = "ghost-ml";

    private const string Header = "implementation,seed,ghost_batch_size,epoch,train_loss,test_accuracy,epoch_seconds";

    /// <summary>Appends <paramref name="result"/>, writing the header first if the file is new.</summary>
    public static void Append(string path, EpochResult result)
    {
        var row = string.Create(CultureInfo.InvariantCulture,
            $"{result.Implementation},{result.Seed},{Label(result.GhostBatchSize)},{result.Epoch},{result.TrainLoss:F5},{result.TestAccuracy:F4},{result.Elapsed?.TotalSeconds:F1}");
        File.AppendAllLines(path, File.Exists(path) ? [row] : [Header, row]);
    }

    /// <summary>Reads every row of <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file does not have the study's columns.</exception>
    public static IReadOnlyList<EpochResult> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != Header)
        {
            throw new InvalidDataException($"{path} does not start with the accuracy study's header \"{Header}\".");
        }

        return lines.Skip(1).Where(line => line.Length > 0).Select(line => line.Split(',')).Select(fields => new EpochResult(
            fields[0],
            int.Parse(fields[1], CultureInfo.InvariantCulture),
            ParseLabel(fields[2]),
            int.Parse(fields[3], CultureInfo.InvariantCulture),
            OptionalNumber(fields[4]),
            double.Parse(fields[5], CultureInfo.InvariantCulture),
            OptionalNumber(fields[6]) is { } seconds ? TimeSpan.FromSeconds(seconds) : null)).ToList();
    }

    /// <summary>"none" for plain BatchNorm, else the ghost batch size.</summary>
    public static string Label(int ghostBatchSize) => ghostBatchSize == 0 ? "none" : ghostBatchSize.ToString(CultureInfo.InvariantCulture);

    /// <summary>The ghost batch size a <see cref="Label"/> names (0 for "none"); the reference script's CSV uses the same.</summary>
    public static int ParseLabel(string label) => label == "none" ? 0 : int.Parse(label, CultureInfo.InvariantCulture);

    private static double? OptionalNumber(string field) =>
        field.Length == 0 ? null : double.Parse(field, CultureInfo.InvariantCulture);
}
