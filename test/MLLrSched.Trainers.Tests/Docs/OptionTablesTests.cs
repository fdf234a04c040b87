using MLLrSched.Specs.Options;
using MLLrSched.Training;

namespace MLLrSched.Trainers.Tests.Docs;

/// <summary>
/// The option tables in docs/ are generated from the options' declarations (<see cref="OptionAttribute"/>); this test
/// fails when a table and its declarations drift apart. To regenerate after changing an option, run the test with
/// MLLRSCHED_UPDATE_DOCS=1: it rewrites the table between its markers.
/// </summary>
[TestClass]
public class OptionTablesTests
{
    [TestMethod]
    [DataRow("docs/trainer.md", "trainer-options", typeof(TrainerOptions))]
    public void DocsTableIsGeneratedFromTheDeclarations(string file, string marker, Type options)
    {
        var path = Path.Combine(RepoRoot(), file);
        var text = File.ReadAllText(path);
        var begin = $"<!-- generated:{marker} (OptionBinder.Markdown; regenerate: MLLRSCHED_UPDATE_DOCS=1 dotnet test --filter OptionTablesTests) -->\n";
        var end = $"<!-- end generated:{marker} -->";
        var i = text.IndexOf(begin, StringComparison.Ordinal);
        var j = text.IndexOf(end, StringComparison.Ordinal);
        Assert.IsTrue(i >= 0 && j > i, $"{file} has no '{begin.Trim()}' … '{end}' section");
        var expected = OptionBinder.Markdown(options);
        var actual = text[(i + begin.Length)..j];
        if (actual != expected && Environment.GetEnvironmentVariable("MLLRSCHED_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, text[..(i + begin.Length)] + expected + text[j..]);
            return;
        }
        Assert.AreEqual(expected, actual, $"{file}'s table of {options.Name} is stale; rerun with MLLRSCHED_UPDATE_DOCS=1");
    }

    [TestMethod]
    public void EveryDeclaredOptionReadsFromJsonAndValidates()
    {
        // Each declared setting's JSON name reads back the value written under it (the binding and the declaration agree).
        var o = TrainerOptions.Read(new MLLrSched.Specs.SpecReader(Json("""
            {"batch_size": 7, "clip_grad_norm": 2.5, "adaptive_clip": {}, "ema": {"decay": 0.5}, "nonfinite": "skip",
             "scheduler_monitor": "ema_val_accuracy", "scheduler_interval": "epoch", "checkpoint_every_n_steps": 3, "device": "cpu"}
            """), "config"));
        Assert.AreEqual(7, o.BatchSize);
        Assert.AreEqual(2.5, o.Clipping.MaxNorm);
        Assert.AreEqual(0.01, o.Clipping.AgcClipFactor, "a group given as {} takes its declared default");
        Assert.AreEqual(0.5, o.Ema!.Decay);
        Assert.AreEqual(NonFinitePolicy.Skip, o.NonFinite);
        Assert.AreEqual(Metric.EmaValAccuracy, o.ScheduleMonitor);
        Assert.AreEqual(3L, o.Checkpoint.EveryNSteps);
        var e = Assert.ThrowsExactly<MLLrSched.Specs.SpecException>(() => TrainerOptions.Read(new MLLrSched.Specs.SpecReader(Json("""{"clip_grad_norm": {"norm_type": 2}}"""), "config")));
        StringAssert.Contains(e.Message, "Missing 'max_norm'");
        var big = Assert.ThrowsExactly<MLLrSched.Specs.SpecException>(() => TrainerOptions.Read(new MLLrSched.Specs.SpecReader(Json("""{"batch_size": 1e12}"""), "config")));
        StringAssert.Contains(big.Message, "too large");
    }

    private static System.Text.Json.JsonElement Json(string s) => System.Text.Json.JsonDocument.Parse(s).RootElement.Clone();

    internal static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MLLrSched.sln"))) return d.FullName;
        throw new AssertFailedException("MLLrSched.sln not found above " + AppContext.BaseDirectory);
    }
}
