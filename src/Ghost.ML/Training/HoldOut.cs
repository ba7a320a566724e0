using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>Splits a training set into the part that trains and a validation part, stratified by class and seeded.</summary>
internal static class HoldOut
{
    /// <summary>
    /// Picks round(fraction × n) samples of each class of n samples for validation, at random from
    /// <paramref name="seed"/>; every class keeps at least one training sample.
    /// </summary>
    /// <param name="labels">Class indices, int64 [N].</param>
    /// <param name="fraction">The fraction to hold out, in (0, 1).</param>
    /// <param name="seed">Decides which samples are held out.</param>
    /// <returns>The training and validation sample indices, each sorted ascending.</returns>
    public static (long[] Train, long[] Validation) Split(Tensor labels, double fraction, int seed)
    {
        var random = new Random(seed);
        var train = new List<long>();
        var validation = new List<long>();
        var values = labels.data<long>().ToArray();
        foreach (var group in Enumerable.Range(0, values.Length).GroupBy(index => values[index]).OrderBy(group => group.Key))
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
