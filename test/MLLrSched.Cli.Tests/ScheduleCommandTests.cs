using MLLrSched.Schedules;

namespace MLLrSched.Cli.Tests;

/// <summary>The schedule command streams exactly what <see cref="ScheduleSimulation"/> computes, and draws charts.</summary>
[TestClass]
public class ScheduleCommandTests
{
    [TestMethod]
    [DataRow("""{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 300}""", 301, "")]
    [DataRow("""{"type": "CosineAnnealingWarmRestarts", "T_0": 10, "T_mult": 2, "eta_min": 0.001}""", 200, "")]
    [DataRow("""{"type": "cosine", "num_warmup_steps": 20, "num_training_steps": 200}""", 200, "--adam")]
    [DataRow("""[{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 100, "cycle_momentum": false}, {"type": "CosineAnnealingLR", "T_max": 100, "eta_min": 0.01, "param_group_field": "weight_decay"}]""", 101, "--weight-decay=0.1")]
    [DataRow("""{"type": "StepLR", "step_size": 7, "last_epoch": 20}""", 60, "")]
    public void TheStreamedCsvEqualsTheSimulation(string spec, int steps, string extra)
    {
        using var w = new Workspace();
        var args = new List<string> { "schedule", "--lr", "0.1", "--spec", spec, "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (extra.Length > 0) args.Add(extra);
        var r = Cli.Run(w.Dir, args);
        Assert.AreEqual(0, r.ExitCode, r.ToString());
        var trace = ScheduleSimulation.Run(ScheduleSpecs.ParseMany(spec), 0.1, steps, null, 0.9, extra.StartsWith("--weight-decay", StringComparison.Ordinal) ? 0.1 : 0.0, extra == "--adam");
        Assert.AreEqual(trace.ToCsv(), r.Stdout.Replace("\r\n", "\n"));
    }

    [TestMethod]
    public void PlateauReadsItsMetricsFileAndNamesABadLine()
    {
        using var w = new Workspace();
        var values = Enumerable.Range(1, 99).Select(i => (1.0 / i + (i > 40 ? 0.5 : 0)).ToString("R", System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        w.Write("m.txt", string.Join("\n", values) + "\n");
        const string spec = """{"type": "ReduceLROnPlateau", "patience": 3, "factor": 0.5}""";
        var r = Cli.Run(w.Dir, "schedule", "--lr", "0.1", "--spec", spec, "--steps", "100", "--metrics", "m.txt");
        Assert.AreEqual(0, r.ExitCode, r.ToString());
        Assert.AreEqual(ScheduleSimulation.Run(ScheduleSpecs.ParseMany(spec), 0.1, 100, values.Select(double.Parse).ToArray()).ToCsv(), r.Stdout);
        w.Write("bad.txt", "1\n2\n\nthree\n");
        var bad = Cli.Run(w.Dir, "schedule", "--lr", "0.1", "--spec", spec, "--steps", "100", "--metrics", "bad.txt");
        Assert.AreEqual(2, bad.ExitCode, bad.ToString());
        StringAssert.Contains(bad.Stderr, "line 4");
        var few = Cli.Run(w.Dir, "schedule", "--lr", "0.1", "--spec", spec, "--steps", "100", "--metrics", "m.txt", "--out", "few.csv");
        Assert.AreEqual(0, few.ExitCode);
        var short_ = Cli.Run(w.Dir, "schedule", "--lr", "0.1", "--spec", spec, "--steps", "1000", "--metrics", "m.txt", "--out", "short.csv");
        Assert.AreEqual(2, short_.ExitCode, short_.ToString());
        Assert.IsFalse(File.Exists(w["short.csv"]), "no partial file is left");
    }

    [TestMethod]
    public void ChartsAreWrittenAsSvgOrPngAndBadArgumentsAreRefused()
    {
        using var w = new Workspace();
        const string spec = """{"type": "LinearLR", "start_factor": 0.1, "total_iters": 10}""";
        Assert.AreEqual(0, Cli.Run(w.Dir, "schedule", "--lr", "0.1", "--spec", spec, "--steps", "50", "--out", "a.png").ExitCode);
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(w["a.png"])[..4]);
        var svg = Cli.Run(w.Dir, "schedule", "--lr", "0.1", "--spec", spec, "--steps", "50", "--format", "svg");
        Assert.AreEqual(0, svg.ExitCode);
        Assert.IsTrue(svg.Stdout.TrimStart().StartsWith("<?xml", StringComparison.Ordinal) && svg.Stdout.Contains("<svg ", StringComparison.Ordinal), "an SVG document on standard output");
        Assert.IsFalse(svg.Stdout.Contains("Unsupported", StringComparison.Ordinal));
        foreach (var (args, message) in new (string[], string)[]
                 {
                     (["--steps", "0"], "--steps must be ≥ 1"),
                     (["--steps", "50", "--format", "png"], "needs --out"),
                     (["--steps", "50", "--out", w.Dir], "is a folder"),
                     (["--steps", "50", "--out", "nofolder/a.csv"], "does not exist"),
                 })
        {
            var r = Cli.Run(w.Dir, ["schedule", "--lr", "0.1", "--spec", spec, .. args]);
            Assert.AreEqual(2, r.ExitCode, r.ToString());
            StringAssert.Contains(r.Stderr, message);
        }
        var dup = Cli.Run(w.Dir, "schedule", "--lr", "0.1", "--spec", """{"type": "StepLR", "step_size": 3, "step_size": 4}""", "--steps", "5");
        Assert.AreEqual(2, dup.ExitCode);
        StringAssert.Contains(dup.Stderr, "'step_size' appears twice");
    }
}
