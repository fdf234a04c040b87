using MLLrSched.Data;

namespace MLLrSched.Trainers.Tests.Data;

[TestClass]
public class DataTests
{
    private static string TempCsv(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"mllrsched-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, content);
        return path;
    }

    [TestMethod]
    public void DatasetValidationNamesSampleAndValue()
    {
        var nan = Assert.ThrowsExactly<ArgumentException>(() =>
            InMemoryDataset.ForClassification([1, float.NaN, 3, 4], [2], [0, 1], 2, "toy"));
        StringAssert.Contains(nan.Message, "toy: feature 1 of sample 0 is NaN");
        var label = Assert.ThrowsExactly<ArgumentException>(() =>
            InMemoryDataset.ForClassification([1, 2, 3, 4], [2], [0, 5], 3, "toy"));
        StringAssert.Contains(label.Message, "label 5 of sample 1 is outside [0, 3)");
        var empty = Assert.ThrowsExactly<ArgumentException>(() => InMemoryDataset.ForClassification([], [2], [], 2, "toy"));
        StringAssert.Contains(empty.Message, "empty");
        var ragged = Assert.ThrowsExactly<ArgumentException>(() => InMemoryDataset.ForClassification([1, 2, 3], [2], [0], 2, "toy"));
        StringAssert.Contains(ragged.Message, "not a whole number of samples");
    }

    [TestMethod]
    public void LoaderShufflesDeterministicallyAndResumesFromPosition()
    {
        var n = 10;
        var ds = InMemoryDataset.ForClassification(Enumerable.Range(0, n).Select(i => (float)i).ToArray(), [1], Enumerable.Range(0, n).Select(i => (long)(i % 2)).ToArray(), 2);
        List<float> Epoch(DataLoader l)
        {
            var seen = new List<float>();
            while (!l.EpochDone) seen.AddRange(l.Next().Features);
            return seen;
        }
        var a = new DataLoader(ds, 3, shuffle: true, seed: 7);
        var first = Epoch(a);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, n).Select(i => (float)i).ToList(), first);
        Assert.AreEqual(4, a.BatchesPerEpoch);
        a.NextEpoch();
        var second = Epoch(a);
        CollectionAssert.AreNotEqual(first, second, "each epoch has its own permutation");
        CollectionAssert.AreEqual(first, Epoch(new DataLoader(ds, 3, shuffle: true, seed: 7)), "same seed, same order");

        var resumed = new DataLoader(ds, 3, shuffle: true, seed: 7) { Position = new DataPosition(1, 2) };
        CollectionAssert.AreEqual(second.Skip(6).ToList(), Epoch(resumed), "resuming at (epoch 1, batch 2) replays the rest of epoch 1");

        var ordered = new DataLoader(ds, 4, shuffle: false, dropLast: true);
        Assert.AreEqual(2, ordered.BatchesPerEpoch);
        CollectionAssert.AreEqual(Enumerable.Range(0, 8).Select(i => (float)i).ToList(), Epoch(ordered));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DataLoader(ds, 0));
    }

    [TestMethod]
    public void ReusedBatchesHoldTheSameValuesAsFreshOnes()
    {
        var n = 10;
        var features = Enumerable.Range(0, 2 * n).Select(i => (float)i).ToArray();
        var cls = InMemoryDataset.ForClassification(features, [2], Enumerable.Range(0, n).Select(i => (long)(i % 3)).ToArray(), 3);
        var reg = InMemoryDataset.ForRegression(features, [2], Enumerable.Range(0, 2 * n).Select(i => 0.5f * i).ToArray(), targetWidth: 2);
        foreach (var ds in new[] { cls, reg })
        {
            var fresh = new DataLoader(ds, 4, shuffle: true, seed: 3);
            var reusing = new DataLoader(ds, 4, shuffle: true, seed: 3);
            Batch? spare = null;
            var reusedArrays = 0;
            for (var epoch = 0; epoch < 2; epoch++)
            {
                while (!fresh.EpochDone)
                {
                    var expected = fresh.Next();
                    var previous = spare?.Features;
                    spare = reusing.Next(spare);
                    if (ReferenceEquals(previous, spare.Features)) reusedArrays++;
                    CollectionAssert.AreEqual(expected.Features, spare.Features);
                    CollectionAssert.AreEqual(expected.Shape, spare.Shape);
                    CollectionAssert.AreEqual(expected.ClassLabels, spare.ClassLabels);
                    CollectionAssert.AreEqual(expected.Targets, spare.Targets);
                    Assert.AreEqual(expected.TargetWidth, spare.TargetWidth);
                }
                fresh.NextEpoch();
                reusing.NextEpoch();
            }
            // 3 batches per epoch (4, 4, 2): the second full batch of each epoch reuses the first one's arrays; the
            // short last batch and the full batch after it do not fit and get new arrays.
            Assert.AreEqual(2, reusedArrays);
        }
        var other = InMemoryDataset.ForClassification(new float[8], [1, 2], new long[4], 2);
        var foreign = cls.GetBatch([0, 1, 2, 3]);
        Assert.AreNotSame(foreign, other.GetBatch([0, 1, 2, 3], foreign), "a batch of another sample shape is not overwritten");
        Assert.AreNotSame(foreign, reg.GetBatch([0, 1, 2, 3], foreign), "a classification batch is not reused for regression");
    }
}
