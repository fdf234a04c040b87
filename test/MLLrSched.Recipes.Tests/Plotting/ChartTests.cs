using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MLLrSched.Plotting;
using MLLrSched.Schedules;

namespace MLLrSched.Recipes.Tests.Plotting;

/// <summary>Charts drawn with ScottPlot: SVG and PNG, axes that match what the console prints, per-step lr curves.</summary>
[TestClass]
public class ChartTests
{
    /// <summary>Every text element of an SVG (tick labels, axis labels, title, legend), trimmed.</summary>
    public static List<string> Texts(string svg)
    {
        XNamespace ns = "http://www.w3.org/2000/svg";
        return XDocument.Parse(svg).Descendants(ns + "text").Select(t => t.Value.Trim()).Where(t => t.Length > 0).ToList();
    }

    private static bool IsNumber(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    [TestMethod]
    public void SvgAndPngWithTitleAxesLegendAndBothAxes()
    {
        var x = Enumerable.Range(0, 100).Select(i => (double)i).ToArray();
        var chart = new Chart { Title = "loss & accuracy", XLabel = "epoch", YLabel = "loss", Y2Label = "accuracy" };
        chart.AddSeries("train <loss>", x, x.Select(v => 2.0 / (1 + v)).ToArray());
        chart.AddSeries("accuracy", x, x.Select(v => 1 - 1 / (1 + v)).ToArray(), secondaryAxis: true, dashed: true);
        var texts = Texts(chart.ToSvg());
        foreach (var t in new[] { "loss & accuracy", "epoch", "loss", "accuracy", "train <loss>" }) CollectionAssert.Contains(texts, t);
        Assert.IsTrue(texts.Count(IsNumber) >= 8, "numeric tick labels on both axes");
        var png = chart.ToPng();
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.IsTrue(png.Length > 5000);
    }

    [TestMethod]
    public void EpochAxesHaveWholeNumberTicksFromZero()
    {
        var epochs = Enumerable.Range(0, 15).Select(i => (double)i).ToArray();
        var chart = new Chart { Title = "Validation accuracy", XLabel = "epoch", YLabel = "accuracy", IntegerX = true };
        chart.AddSeries("model", epochs, epochs.Select(e => 0.8 + e / 100).ToArray(), markers: true);
        var svg = chart.ToSvg();
        var ticks = Texts(svg).Where(IsNumber).Select(t => double.Parse(t, CultureInfo.InvariantCulture)).Where(v => v >= 1 || v == 0).ToList();
        Assert.IsTrue(ticks.Contains(0) && ticks.Contains(14), "epochs numbered 0 to 14 as the console prints them: " + string.Join(", ", ticks));
        Assert.IsFalse(ticks.Any(v => v != Math.Floor(v)), "no ticks between epochs (2.5, 7.5): " + string.Join(", ", ticks));
    }

    [TestMethod]
    public void LogAxesUseDecadesAndLeaveOutNonPositiveAndNonFinitePoints()
    {
        var lrs = Enumerable.Range(0, 60).Select(i => 1e-6 * Math.Pow(10, i / 10.0)).ToArray();
        var loss = lrs.Select((lr, i) => i == 30 ? double.NaN : 2.0 - Math.Log10(lr) * 0.1).ToArray();
        var chart = new Chart { Title = "LR range test", XLabel = "learning rate", YLabel = "loss", LogX = true };
        chart.AddSeries("loss", lrs, loss);
        var texts = Texts(chart.ToSvg());
        CollectionAssert.Contains(texts, "1e-6");
        CollectionAssert.Contains(texts, "0.01");
        var (xs, ys) = Chart.Points([0, 1, 10, double.NaN, 100], [1, 2, 3, 4, double.PositiveInfinity], logX: true, logY: false, pixels: 600);
        CollectionAssert.AreEqual(new[] { 0.0, 1.0 }, xs, "x = 0 and non-finite points left out, log10 taken");
        CollectionAssert.AreEqual(new[] { 2.0, 3.0 }, ys);
    }

    [TestMethod]
    public void LongSeriesAreReducedPerPixelKeepingEveryExtreme()
    {
        var n = 1_000_000;
        var x = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var y = x.Select(v => Math.Sin(v / 1000)).ToArray();
        y[123_457] = 50;   // one spike
        y[987_654] = -50;
        var (xs, ys) = Chart.Points(x, y, false, false, pixels: 650);
        Assert.IsTrue(xs.Length <= 4 * 650 + 4, $"{xs.Length} points drawn");
        Assert.AreEqual(50, ys.Max());
        Assert.AreEqual(-50, ys.Min());
        Assert.AreEqual(0, xs[0]);
        Assert.AreEqual(n - 1, xs[^1]);
        var svg = new Chart { Title = "a million steps" }.AddSeries("lr", x, y).ToSvg();
        Assert.IsTrue(svg.Length < 400_000, $"SVG of {svg.Length} characters");
    }

    [TestMethod]
    public void ScheduleChartKeepsItsCallShapeAndDrawsMomentumOnTheRightAxis()
    {
        var specs = ScheduleSpecs.ParseMany("""{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 100}""");
        var trace = ScheduleSimulation.Run(specs, 0.1, 100);
        var texts = Texts(ScheduleChart.ToSvg(trace, "one cycle", logY: false));
        CollectionAssert.Contains(texts, "one cycle");
        CollectionAssert.Contains(texts, "learning rate");
        CollectionAssert.Contains(texts, "momentum");
        Assert.IsTrue(ScheduleChart.ToPng(trace).Length > 1000);
        Assert.IsFalse(ScheduleChart.ToSvg(trace).Contains("Unsupported", StringComparison.Ordinal));
    }

    [TestMethod]
    public void RunChartsDrawTheLrOfEveryStepAndEpochsAsPrinted()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mllrsched-charts-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            // A warmup from 0 over 10 steps, then constant: every step is a row of lr.csv.
            File.WriteAllLines(Path.Combine(dir, RunCharts.LrFileName),
                ["step,lr", .. Enumerable.Range(1, 40).Select(s => $"{s},{(s <= 10 ? 0.01 * (s - 1) / 10 : 0.01).ToString("R", CultureInfo.InvariantCulture)}")]);
            var header = "kind,step,epoch,loss,lr,grad_norm,samples_per_sec,val_loss,val_accuracy,ema_val_loss,ema_val_accuracy,skipped_steps,elapsed_s";
            File.WriteAllLines(Path.Combine(dir, RunCharts.MetricsFileName),
            [
                header,
                "step,20,0,1.2,0.01,1,100,,,,,0,0.1", "epoch,20,0,1.1,0.01,1,,1.0,0.61,,,0,0.2",
                "step,40,1,0.9,0.01,1,100,,,,,0,0.3", "epoch,40,1,0.8,0.01,1,,0.85,0.72,,,0,0.4",
            ]);
            var written = RunCharts.Write(dir).Select(Path.GetFileName).ToList();
            CollectionAssert.AreEquivalent(new[] { "lr.svg", "lr.png", "loss.svg", "loss.png", "accuracy.svg", "accuracy.png" }, written);
            var lr = RunCharts.LrChart(dir)!;
            Assert.AreEqual(40, lr.Series[0].X.Length, "one point per optimizer step");
            Assert.AreEqual(0, lr.Series[0].Y[0], "the warmup from 0 is drawn");
            var acc = Texts(File.ReadAllText(Path.Combine(dir, "accuracy.svg")));
            Assert.IsTrue(acc.Contains("0") && acc.Contains("1") && !acc.Contains("2"), "epochs 0 and 1, as metrics.csv and the console number them: " + string.Join("|", acc));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void NoHandWrittenSvgIsLeft()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root != null && !File.Exists(Path.Combine(root.FullName, "MLLrSched.sln"))) root = root.Parent;
        Assert.IsNotNull(root);
        var sources = Directory.GetFiles(Path.Combine(root.FullName, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal));
        foreach (var f in sources)
            Assert.IsFalse(Regex.IsMatch(File.ReadAllText(f), "<svg |<polyline|<path d="), $"{f} writes SVG by hand");
    }
}
