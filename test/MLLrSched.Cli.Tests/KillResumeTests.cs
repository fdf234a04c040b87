using System.Globalization;
using MLLrSched.Backend.Persistence;
using MLLrSched.Backend.Engines;

namespace MLLrSched.Cli.Tests;

/// <summary>
/// The checkpoint promise end to end: <c>mllrsched train</c> is killed with SIGKILL (no chance to clean up — possibly in the
/// middle of writing a checkpoint), resumed with <c>--resume</c>, killed again, resumed again; its final weights, EMA weights,
/// metrics.csv (every column but timing) and lr.csv equal those of an uninterrupted run, bit for bit.
/// </summary>
[TestClass]
public class KillResumeTests
{
    private const string Config = """
    {
      "seed": 3, "threads": 1,
      "data": {"type": "csv", "train": "train.csv", "test": "test.csv", "validation": "split", "validation_fraction": 0.1},
      "model": {"type": "mlp", "hidden_sizes": [32], "dropout": 0.2},
      "task": {"label_smoothing": 0.05},
      "optimizer": {"type": "AdamW", "lr": 0.01, "weight_decay": 0.01},
      "scheduler": {"type": "OneCycleLR", "max_lr": 0.02, "total_steps": "$total_steps"},
      "epochs": 3, "batch_size": 16, "gradient_accumulation_steps": 2,
      "clip_grad_norm": {"max_norm": 1.0},
      "ema": {"decay": 0.9, "use_warmup": true},
      "log_every_n_steps": 1, "checkpoint_every_n_steps": 1
    }
    """;

    internal static Dictionary<string, float[]> Weights(string file)
    {
        var b = EngineRegistry.Load(Cli.Engine).Backend;
        using var scope = b.NewScope();
        return StateFile.LoadStateDict(file, b).ToDictionary(kv => kv.Key, kv => kv.Value.ToFloatArray());
    }

    internal static void AssertSameWeights(string a, string b)
    {
        var expected = Weights(a);
        var actual = Weights(b);
        CollectionAssert.AreEqual(expected.Keys.ToArray(), actual.Keys.ToArray(), b);
        foreach (var k in expected.Keys) CollectionAssert.AreEqual(expected[k], actual[k], $"{b}: '{k}' differs");
    }

    /// <summary>metrics.csv rows without the timing columns (samples_per_sec, elapsed_s).</summary>
    internal static string[] MetricsWithoutTiming(string file)
    {
        var lines = File.ReadAllLines(file);
        var header = lines[0].Split(',');
        var keep = Enumerable.Range(0, header.Length).Where(i => header[i] is not ("samples_per_sec" or "elapsed_s")).ToArray();
        return lines.Select(l => string.Join(",", keep.Select(i => l.Split(',')[i]))).ToArray();
    }

    internal static double[] Elapsed(string file)
    {
        var lines = File.ReadAllLines(file);
        var i = Array.IndexOf(lines[0].Split(','), "elapsed_s");
        return lines.Skip(1).Select(l => double.Parse(l.Split(',')[i], CultureInfo.InvariantCulture)).ToArray();
    }

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void KilledAndResumedRunEqualsUninterruptedRunBitForBit()
    {
        using var w = new Workspace();
        w.Data("train.csv", 600, 1);
        w.Data("test.csv", 200, 2);
        w.Write("config.json", Config);

        var full = w.Train("--config", "config.json", "--out", "uninterrupted");
        Assert.AreEqual(0, full.ExitCode, full.ToString());

        var first = Cli.Run(w.Dir, ["train", "--config", "config.json", "--out", "killed"], l => Cli.StepOf(l) >= 9);
        Assert.IsTrue(first.Stopped, "the first run was killed\n" + first);
        // A write killed half-way leaves a temporary file; the next start removes it (plant one to be sure there is one).
        var planted = w["killed/.checkpoint.pt.0123456789abcdef0123456789abcdef.tmp"];
        File.WriteAllText(planted, "torn");
        var second = Cli.Run(w.Dir, ["train", "--out", "killed", "--resume"], l => Cli.StepOf(l) >= 30);
        Assert.IsTrue(second.Stopped, "the resumed run was killed again\n" + second);
        StringAssert.Contains(second.Output, "resuming from");
        Assert.IsFalse(File.Exists(planted), "the temporary file of an interrupted write is removed at the next start\n" + second);
        var last = Cli.Run(w.Dir, "train", "--config", "config.json", "--out", "killed", "--resume", w["killed/checkpoint.pt"]);
        Assert.AreEqual(0, last.ExitCode, last.ToString());

        foreach (var file in new[] { "model.pt", "ema_model.pt" }) AssertSameWeights(w[$"uninterrupted/{file}"], w[$"killed/{file}"]);
        // metrics.csv: one run's history, each row exactly as the uninterrupted run wrote it (loss intervals spanning
        // a kill included), and training time carried over.
        CollectionAssert.AreEqual(MetricsWithoutTiming(w["uninterrupted/metrics.csv"]), MetricsWithoutTiming(w["killed/metrics.csv"]));
        var elapsed = Elapsed(w["killed/metrics.csv"]);
        for (var i = 1; i < elapsed.Length; i++) Assert.IsTrue(elapsed[i] >= elapsed[i - 1], $"elapsed_s goes back at row {i + 1}: {elapsed[i - 1]} → {elapsed[i]}");
        CollectionAssert.AreEqual(File.ReadAllLines(w["uninterrupted/lr.csv"]), File.ReadAllLines(w["killed/lr.csv"]), "lr.csv");
        StringAssert.Contains(File.ReadAllText(w["killed/summary.json"]), "\"status\": \"completed\"");
    }

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void ResumeFromAnEpochEndCheckpointWritesNoPartialOrNaNRows()
    {
        using var w = new Workspace();
        // Checkpoints at epoch ends only, and enough rows that the two epochs left outlast the kill.
        w.Standard(Configs.With(Configs.With(Configs.Small, "checkpoint_every_n_steps", "0"), "log_every_n_steps", "20"), rows: 3000);
        Assert.AreEqual(0, w.Train("--config", "config.json", "--out", "a").ExitCode);
        var killed = Cli.Run(w.Dir, ["train", "--config", "config.json", "--out", "b"], l => l.StartsWith("epoch 1 done", StringComparison.Ordinal));
        Assert.IsTrue(killed.Stopped, killed.ToString());
        StringAssert.Contains(File.ReadAllText(w["b/summary.json"]), "\"running\"", "killed while training");
        var resumed = w.Train("--out", "b", "--resume");
        Assert.AreEqual(0, resumed.ExitCode, resumed.ToString());
        var rows = MetricsWithoutTiming(w["b/metrics.csv"]);
        Assert.IsFalse(rows.Any(r => r.Contains("NaN", StringComparison.Ordinal)), "no NaN rows:\n" + string.Join("\n", rows));
        CollectionAssert.AreEqual(MetricsWithoutTiming(w["a/metrics.csv"]), rows);
        AssertSameWeights(w["a/model.pt"], w["b/model.pt"]);
    }
}
