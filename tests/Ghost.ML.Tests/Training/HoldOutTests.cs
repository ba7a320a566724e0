using Ghost.ML.Training;

namespace Ghost.ML.Tests.Training;

[TestClass]
public sealed class HoldOutTests
{
    [TestMethod]
    public void HoldsOutTheFractionOfEveryClassAndKeepsTheRestForTraining()
    {
        // 20 of class 0, 10 of class 1, 3 of class 2, interleaved.
        long[] values = [.. Enumerable.Range(0, 20).Select(_ => 0L), .. Enumerable.Range(0, 10).Select(_ => 1L), 2, 2, 2];
        new Random(4).Shuffle(values);
        var (train, validation) = HoldOut.Split(values, 0.3, seed: 9);

        CollectionAssert.AreEqual(new[] { 6, 3, 1 }, Enumerable.Range(0, 3).Select(c => validation.Count(i => values[i] == c)).ToArray(), "round(0.3 × n) per class");
        CollectionAssert.AreEquivalent(Enumerable.Range(0, values.Length).Select(i => (long)i).ToArray(), train.Concat(validation).ToArray(), "every sample once");
        CollectionAssert.AreEqual(train.Order().ToArray(), train);
    }

    [TestMethod]
    public void TheSameSeedHoldsOutTheSameSamplesAndAnotherSeedOthers()
    {
        long[] labels = [.. Enumerable.Range(0, 100).Select(i => (long)(i % 2))];

        var first = HoldOut.Split(labels, 0.2, seed: 1);
        var again = HoldOut.Split(labels, 0.2, seed: 1);
        var other = HoldOut.Split(labels, 0.2, seed: 2);

        CollectionAssert.AreEqual(first.Validation, again.Validation);
        CollectionAssert.AreNotEqual(first.Validation, other.Validation);
    }

    [TestMethod]
    public void EveryClassKeepsATrainingSample()
    {
        long[] labels = [0, 0, 1, 1, 1, 1];

        var (train, validation) = HoldOut.Split(labels, 0.9, seed: 3);

        CollectionAssert.AreEquivalent(new long[] { 0, 1 }, train.Select(i => labels[i]).Distinct().ToArray());
        Assert.HasCount(4, validation);
    }
}
