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
    public void FashionMnistLoadsFromTheDebianPackage()
    {
        if (!Directory.Exists(FashionMnist.DefaultDirectory)) Assert.Inconclusive("dataset-fashion-mnist is not installed");
        var test = FashionMnist.Load(train: false);
        Assert.AreEqual(10_000, test.Count);
        CollectionAssert.AreEqual(new long[] { 784 }, test.SampleShape);
        Assert.AreEqual(10, test.ClassCount);
        Assert.AreEqual(1000, test.ClassLabels!.Count(l => l == 3), "the test split is balanced: 1000 per class");
        var max = 0f;
        foreach (var v in test.Features) max = Math.Max(max, v);
        Assert.IsTrue(max <= 1f && max > 0.9f, "pixels are scaled to [0, 1]");
        var images = FashionMnist.Load(train: false, imageShape: true);
        CollectionAssert.AreEqual(new long[] { 1, 28, 28 }, images.SampleShape);
    }

    [TestMethod]
    public void MissingDataFileIsNamed()
    {
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => FashionMnist.Load("/nonexistent/dir"));
        StringAssert.Contains(e.Message, "train-images-idx3-ubyte");
        StringAssert.Contains(e.Message, "dataset-fashion-mnist");
        var c = Assert.ThrowsExactly<FileNotFoundException>(() => CsvDataset.Load("/nonexistent/data.csv"));
        StringAssert.Contains(c.Message, "/nonexistent/data.csv");
    }

    [TestMethod]
    public void CsvClassificationAndRegression()
    {
        var path = TempCsv("a,b,id,label\n1,2,x,0\n3,4,y,2\n5,6,z,1\n");
        try
        {
            var ds = CsvDataset.Load(path, new CsvOptions { LabelColumn = "label", IgnoreColumns = ["id"] });
            Assert.AreEqual(3, ds.Count);
            Assert.AreEqual(3, ds.ClassCount);
            CollectionAssert.AreEqual(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, ds.Features.ToArray());
            CollectionAssert.AreEqual(new long[] { 0, 2, 1 }, ds.ClassLabels!.ToArray());
            var reg = CsvDataset.Load(path, new CsvOptions { LabelColumn = "b", LabelKind = LabelKind.Regression, IgnoreColumns = ["id"] });
            CollectionAssert.AreEqual(new[] { 2f, 4f, 6f }, reg.Targets.ToArray());
        }
        finally { File.Delete(path); }
    }

    [TestMethod]
    public void CsvWeightColumnBecomesSampleWeightsNotAFeature()
    {
        var path = TempCsv("a,w,b,label\n1,0.5,2,0\n3,2,4,1\n5,0,6,1\n");
        var bad = TempCsv("a,w,label\n1,1,0\n3,-2,1\n");
        try
        {
            var ds = CsvDataset.Load(path, new CsvOptions { WeightColumn = "w" });
            CollectionAssert.AreEqual(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, ds.Features.ToArray());
            CollectionAssert.AreEqual(new[] { 0.5f, 2f, 0f }, ds.SampleWeights!.ToArray());
            Assert.IsNull(CsvDataset.Load(path).SampleWeights);
            var e = Assert.ThrowsExactly<InvalidDataException>(() => CsvDataset.Load(bad, new CsvOptions { WeightColumn = "w" }));
            StringAssert.Contains(e.Message, "line 3, column 'w': weight -2 is negative");
            e = Assert.ThrowsExactly<InvalidDataException>(() => CsvDataset.Load(bad, new CsvOptions { WeightColumn = "label" }));
            StringAssert.Contains(e.Message, "the weight column 'label' is also the label column");
            var config = MLLrSched.Training.RunConfig.Parse($$$"""{"data": {"type": "csv", "train": "{{{path}}}", "weight_column": "w", "validation": "split", "validation_fraction": 0.34}}""");
            Assert.AreEqual("w", config.Data.Csv.WeightColumn);
        }
        finally { File.Delete(path); File.Delete(bad); }
    }

    [TestMethod]
    public void CsvErrorsNameFileLineAndColumn()
    {
        var path = TempCsv("a,b,label\n1,2,0\n3,oops,1\n");
        try
        {
            var e = Assert.ThrowsExactly<InvalidDataException>(() => CsvDataset.Load(path));
            StringAssert.Contains(e.Message, "line 3, column 'b': 'oops' is not a finite number");
            var m = Assert.ThrowsExactly<InvalidDataException>(() => CsvDataset.Load(path, new CsvOptions { LabelColumn = "target" }));
            StringAssert.Contains(m.Message, "no column 'target'. Columns: a, b, label");
        }
        finally { File.Delete(path); }
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
