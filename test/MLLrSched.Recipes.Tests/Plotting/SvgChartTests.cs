using System.Xml.Linq;
using MLLrSched.Plotting;

namespace MLLrSched.Recipes.Tests.Plotting;

[TestClass]
public class SvgChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [TestMethod]
    public void RendersWellFormedSvgWithTitleAxesAndSeries()
    {
        var x = Enumerable.Range(0, 100).Select(i => (double)i).ToArray();
        var chart = new SvgChart { Title = "loss & accuracy", XLabel = "epoch", YLabel = "loss", Y2Label = "accuracy" };
        chart.AddSeries("train <loss>", x, x.Select(v => 2.0 / (1 + v)).ToArray());
        chart.AddSeries("val loss", x, x.Select(v => 2.2 / (1 + v) + 0.05).ToArray());
        chart.AddSeries("accuracy", x, x.Select(v => 1 - 1 / (1 + v)).ToArray(), secondaryAxis: true);
        var doc = XDocument.Parse(chart.Render());
        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
        CollectionAssert.Contains(texts, "loss & accuracy");
        CollectionAssert.Contains(texts, "epoch");
        CollectionAssert.Contains(texts, "loss");
        CollectionAssert.Contains(texts, "accuracy");
        CollectionAssert.Contains(texts, "train <loss> (left axis)");
        Assert.AreEqual(3, doc.Descendants(Svg + "path").Count());
        Assert.IsTrue(texts.Count(t => double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)) >= 8, "numeric tick labels");
    }

    [TestMethod]
    public void LogAxesUseDecadesAndSkipNonPositivePoints()
    {
        var lrs = Enumerable.Range(0, 60).Select(i => 1e-6 * Math.Pow(10, i / 10.0)).ToArray();
        var loss = lrs.Select((lr, i) => i == 30 ? double.NaN : 2.0 - Math.Log10(lr) * 0.1).ToArray();
        var chart = new SvgChart { Title = "LR range test", XLabel = "learning rate", YLabel = "loss", LogX = true };
        chart.AddSeries("loss", lrs, loss);
        var doc = XDocument.Parse(chart.Render());
        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
        CollectionAssert.Contains(texts, "1e-6");
        CollectionAssert.Contains(texts, "0.01");
        CollectionAssert.Contains(texts, "learning rate (log)");
        var d = doc.Descendants(Svg + "path").Single().Attribute("d")!.Value;
        Assert.AreEqual(2, d.Count(c => c == 'M'), "a NaN splits the line");

        var logY = new SvgChart { LogY = true }.AddSeries("v", new[] { 0.0, 1.0, 2.0 }, new[] { 0.0, 1e-3, 1.0 });
        var d2 = XDocument.Parse(logY.Render()).Descendants(Svg + "path").Single().Attribute("d")!.Value;
        Assert.AreEqual(1, d2.Count(c => c == 'L'), "the zero is left out on a log axis");
    }

    [TestMethod]
    public void ConstantAndEmptySeriesStillRender()
    {
        var flat = new SvgChart().AddSeries("flat", new[] { 0.1, 0.1, 0.1 });
        Assert.IsNotNull(XDocument.Parse(flat.Render()));
        Assert.IsNotNull(XDocument.Parse(new SvgChart().Render()));
        Assert.ThrowsExactly<ArgumentException>(() => new SvgChart().AddSeries("bad", new[] { 1.0 }, new[] { 1.0, 2.0 }));
    }
}
