using Ghost.ML;
using Spectre.Console;

namespace ImageClassification.Reporting;

/// <summary>
/// Shows training progress: a live Spectre.Console progress bar on an interactive terminal, one plain line per
/// epoch when the output is redirected (as in CI logs).
/// </summary>
internal static class TrainingProgress
{
    /// <summary>Runs <paramref name="train"/>, giving it the per-epoch callback that reports progress.</summary>
    public static T Track<T>(IAnsiConsole console, string title, int epochs, Func<Action<GhostBatchNormEpochMetrics>, T> train)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            console.WriteLine($"{title}: {epochs} epochs");
            return train(metrics => console.WriteLine($"{title}: {Describe(metrics, epochs)}"));
        }

        // The bar is drawn under a rule that names the run, so the description only carries the numbers,
        // short enough for an 80-column terminal.
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 16 },
                new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask($"epoch 1/{epochs}: training", maxValue: epochs);
                return train(metrics =>
                {
                    task.Description = Markup.Escape(DescribeBriefly(metrics, epochs));
                    task.Increment(1);
                });
            });
    }

    private static string Describe(GhostBatchNormEpochMetrics metrics, int epochs)
    {
        var validation = metrics.ValidationAccuracy is { } accuracy
            ? $"  val loss {metrics.ValidationLoss:F3}  val acc {accuracy:P1}"
            : "";
        return $"epoch {metrics.Epoch}/{epochs}  loss {metrics.TrainLoss:F3}  acc {metrics.TrainAccuracy:P1}{validation}"
            + $"  {metrics.ImagesPerSecond:F0} images/s";
    }

    private static string DescribeBriefly(GhostBatchNormEpochMetrics metrics, int epochs)
    {
        var validation = metrics.ValidationAccuracy is { } accuracy ? $" val {accuracy:P1}" : "";
        return $"{metrics.Epoch}/{epochs} loss {metrics.TrainLoss:F3} acc {metrics.TrainAccuracy:P1}{validation} "
            + $"{metrics.ImagesPerSecond:F0} img/s";
    }
}
