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
        var doc = XDocument.Parse(LrFinderChart.ToSvg(r));
        XNamespace svg = "http://www.w3.org/2000/svg";
        Assert.AreEqual(svg + "svg", doc.Root!.Name);
        var series = doc.Descendants(svg + "path").Select(p => p.Element(svg + "title")?.Value).Where(t => t != null).ToArray();
        Assert.AreEqual("loss", series[0]);
        Assert.AreEqual("smoothed loss", series[1]);
        if (r.Suggestion.Method != LrSuggestionMethod.None)
        {
            StringAssert.StartsWith(series[2], "suggested lr ");
            StringAssert.Contains(doc.Descendants(svg + "text").First().Value, "suggested lr " + LrFinderResult.Fmt(r.SuggestedLr));
        }
        StringAssert.Contains(doc.Descendants(svg + "text").Select(t => t.Value).Aggregate((a, b) => a + "|" + b), "learning rate (log)");

        var dir = Path.Combine(Path.GetTempPath(), $"mllrsched-lrfind-{Guid.NewGuid():N}");
        try
        {
            var (csv, svgPath) = LrFinderChart.Save(r, dir);
            Assert.AreEqual(r.ToCsv(), File.ReadAllText(csv));
            XDocument.Load(svgPath);
        }
        finally { Directory.Delete(dir, true); }
    }
}
