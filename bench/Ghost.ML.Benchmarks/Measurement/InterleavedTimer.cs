using System.Diagnostics;

namespace Ghost.ML.Benchmarks.Measurement;

/// <summary>
/// Times several contenders side by side in one process: every round runs each contender once, in a rotated order,
/// so drift and noise from other work on the machine fall on all of them alike. Ratios of the medians are the result.
/// </summary>
internal static class InterleavedTimer
{
    /// <summary>
    /// Runs <paramref name="warmupRounds"/> untimed rounds, then <paramref name="rounds"/> timed ones, or as many more as
    /// fill <paramref name="minimumTime"/> (judged from the last warm-up round, at most <see cref="MaxRounds"/>): a
    /// median of a few rounds of a millisecond-long contender moves with every page fault and timer tick.
    /// </summary>
    /// <returns>The median time of each contender, in the order given.</returns>
    public static TimeSpan[] Medians(IReadOnlyList<Action> contenders, int rounds, int warmupRounds = 2,
        TimeSpan minimumTime = default)
    {
        var roundTime = TimeSpan.Zero;
        for (var round = 0; round < warmupRounds; round++)
        {
            var watch = Stopwatch.StartNew();
            foreach (var contender in contenders)
            {
                contender();
            }

            roundTime = watch.Elapsed;
        }

        if (roundTime > TimeSpan.Zero)
        {
            rounds = Math.Max(rounds, (int)Math.Min(MaxRounds, Math.Ceiling(minimumTime / roundTime)));
        }

        var times = contenders.Select(_ => new List<TimeSpan>(rounds)).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var offset = 0; offset < contenders.Count; offset++)
            {
                var index = (round + offset) % contenders.Count;
                var watch = Stopwatch.StartNew();
                contenders[index]();
                times[index].Add(watch.Elapsed);
            }
        }

        return times.Select(Median).ToArray();
    }

    /// <summary>The most rounds a minimum time asks for.</summary>
    public const int MaxRounds = 1000;

    /// <summary>The middle value (the upper of the two middle ones for an even count).</summary>
    public static T Median<T>(IEnumerable<T> values) => values.Order().ElementAt(values.Count() / 2);
}
