using MLLrSched.Data;

namespace MLLrSched.Recipes.Tests.Data;

/// <summary>The built-in data sources: Debian's Fashion-MNIST files and CSV.</summary>
[TestClass]
public class DataFileTests
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
            var config = MLLrSched.Recipes.RunConfig.Parse($$$"""{"data": {"type": "csv", "train": "{{{path}}}", "weight_column": "w", "validation": "split", "validation_fraction": 0.34}}""");
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
            StringAssert.Contains(m.Message, "no label column 'target'. Columns: a, b, label");
        }
        finally { File.Delete(path); }
    }
}
