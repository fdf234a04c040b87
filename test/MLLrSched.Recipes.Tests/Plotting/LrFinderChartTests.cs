using System.Xml.Linq;
using MLLrSched.Data;
using MLLrSched.Plotting;
using MLLrSched.Torch;
using MLLrSched.Torch.Modules;
using MLLrSched.Training;

namespace MLLrSched.Recipes.Tests.Plotting;

[TestClass]
public class LrFinderChartTests
{
    [TestMethod]
    public void SvgIsWellFormedWithTheExpectedSeriesAndSaveWritesBothFiles()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 64 * 3).Select(_ => (float)rng.NextDouble()).ToArray();
        var y = Enumerable.Range(0, 64).Select(i => x[i * 3] - 2 * x[i * 3 + 1] + 0.5f).ToArray();
        var data = InMemoryDataset.ForRegression(x, [3], y);
        NativeBackend.Instance.ManualSeed(0);
        using var model = new Linear(3, 1);
        var r = new LrFinder(new LrFinderOptions { BatchSize = 8, NumSteps = 40, StartLr = 1e-4, EndLr = 10 })
            .Run(model, new RegressionTask(1), data, """{"type": "SGD", "lr": 0.1}""");
        var texts = ChartTests.Texts(LrFinderChart.ToSvg(r));
        CollectionAssert.Contains(texts, "loss");
        CollectionAssert.Contains(texts, "smoothed loss");
        CollectionAssert.Contains(texts, "learning rate (log)");
        if (r.Suggestion.Method != LrSuggestionMethod.None)
        {
            Assert.IsTrue(texts.Any(t => t.StartsWith("suggested lr " + LrFinderResult.Fmt(r.SuggestedLr), StringComparison.Ordinal)), string.Join("|", texts));
            Assert.IsTrue(texts.Count(t => t.Contains("suggested lr", StringComparison.Ordinal)) >= 2, "title and legend name the suggestion");
        }
        Assert.IsTrue(texts.Any(t => t.StartsWith("1e-", StringComparison.Ordinal)), "log axis labelled in decades: " + string.Join("|", texts));

        var dir = Path.Combine(Path.GetTempPath(), $"mllrsched-lrfind-{Guid.NewGuid():N}");
        try
        {
            var (csv, svgPath, pngPath) = LrFinderChart.Save(r, dir);
            CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(pngPath)[..4]);
            Assert.AreEqual(r.ToCsv(), File.ReadAllText(csv));
            XDocument.Load(svgPath);
        }
        finally { Directory.Delete(dir, true); }
    }
}
