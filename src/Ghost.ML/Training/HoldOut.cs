namespace Ghost.ML.Training;

/// <summary>Splits a training set into the part that trains and a validation part, stratified by class and seeded.</summary>
internal static class HoldOut
{
    /// <summary>
    /// Picks round(fraction × n) samples of each class of n samples for validation, at random from
    /// <paramref name="seed"/>; every class keeps at least one training sample.
    /// </summary>
    /// <param name="labels">The class index of every sample.</param>
    /// <param name="fraction">The fraction to hold out, in (0, 1).</param>
    /// <param name="seed">Decides which samples are held out.</param>
    /// <returns>The training and validation sample indices, each sorted ascending.</returns>
    public static (long[] Train, long[] Validation) Split(long[] labels, double fraction, int seed)
    {
        var random = new Random(seed);
        var train = new List<long>();
        var validation = new List<long>();
        foreach (var group in Enumerable.Range(0, labels.Length).GroupBy(index => labels[index]).OrderBy(group => group.Key))
        {
            var members = group.Select(index => (long)index).ToArray();
            random.Shuffle(members);
            int held = Math.Min((int)Math.Round(members.Length * fraction, MidpointRounding.AwayFromZero), members.Length - 1);
            validation.AddRange(members.Take(held));
            train.AddRange(members.Skip(held));
        }

        train.Sort();
        validation.Sort();
        return (train.ToArray(), validation.ToArray());
    }
}
