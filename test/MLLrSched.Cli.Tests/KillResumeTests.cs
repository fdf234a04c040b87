using System.Diagnostics;
using System.Globalization;
using System.Text;
using MLLrSched.Torch;
using MLLrSched.Torch.Serialization;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>
/// The checkpoint promise end to end: <c>mllrsched train</c> is killed with SIGKILL (no chance to clean up — possibly in the
/// middle of writing a checkpoint), resumed with <c>--resume</c>, killed again, resumed again; its final weights, EMA weights
/// and metrics equal those of an uninterrupted run bit for bit.
/// </summary>
[TestClass]
public class KillResumeTests
{
    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MLLrSched.sln"))) return d.FullName;
        throw new InvalidOperationException("MLLrSched.sln not found above the test assembly.");
    }

    private static string Cli()
    {
        var dll = Path.Combine(RepoRoot(), "src", "Cli", "bin", "Release", "net10.0", "mllrsched.dll");
        if (!File.Exists(dll)) Assert.Fail($"{dll} is missing: build the solution in Release (tools/build.sh does).");
        return dll;
    }

    private static void WriteData(string path, int rows, int seed)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder("f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,label\n");
        for (var r = 0; r < rows; r++)
        {
            var x = Enumerable.Range(0, 10).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            var label = (x[0] + x[1] > 0 ? 1 : 0) + (x[2] - x[3] > 0.3 ? 2 : 0);
            sb.Append(string.Join(",", x.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).Append(',').Append(label).Append('\n');
        }
        File.WriteAllText(path, sb.ToString());
    }

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

    /// <summary>Runs the CLI; with <paramref name="killAtStep"/>, SIGKILLs it as soon as it reports that step.</summary>
    private static (int ExitCode, bool Killed, string Output) Run(string dir, string outDir, string? resume, long? killAtStep)
    {
        var args = new List<string> { Cli(), "train", "--config", Path.Combine(dir, "config.json"), "--out", outDir };
        if (resume != null) args.AddRange(["--resume", resume]);
        var psi = new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        using var p = Process.Start(psi)!;
        var output = new StringBuilder();
        var killed = false;
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        p.BeginErrorReadLine();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) != null)
        {
            lock (output) output.AppendLine(line);
            if (killAtStep is { } k && line.StartsWith("step ", StringComparison.Ordinal)
                && long.Parse(line.Split(' ')[1].Split('/')[0], CultureInfo.InvariantCulture) >= k)
            {
                p.Kill();   // SIGKILL on Linux
                killed = true;
                break;
            }
        }
        if (!p.WaitForExit(120_000)) { p.Kill(); Assert.Fail("the CLI did not finish within 2 minutes:\n" + output); }
        return (p.ExitCode, killed, output.ToString());
    }

    private static Dictionary<string, float[]> Load(string file)
    {
        var sd = TorchFile.Load(file);
        try { return sd.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>()); }
        finally { foreach (var t in sd.Values) t.Dispose(); }
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public void KilledAndResumedRunEqualsUninterruptedRunBitForBit()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mllrsched-kill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            WriteData(Path.Combine(dir, "train.csv"), 600, 1);
            WriteData(Path.Combine(dir, "test.csv"), 200, 2);
            File.WriteAllText(Path.Combine(dir, "config.json"), Config);

            var a = Path.Combine(dir, "uninterrupted");
            var full = Run(dir, a, null, null);
            Assert.AreEqual(0, full.ExitCode, full.Output);

            var b = Path.Combine(dir, "killed");
            var checkpoint = Path.Combine(b, "checkpoint.pt");
            var first = Run(dir, b, null, killAtStep: 9);
            Assert.IsTrue(first.Killed, "the first run was killed\n" + first.Output);
            var second = Run(dir, b, checkpoint, killAtStep: 30);
            Assert.IsTrue(second.Killed, "the resumed run was killed again\n" + second.Output);
            StringAssert.Contains(second.Output, "resumed from");
            var last = Run(dir, b, checkpoint, null);
            Assert.AreEqual(0, last.ExitCode, last.Output);

            foreach (var file in new[] { "model.pt", "ema_model.pt" })
            {
                var expected = Load(Path.Combine(a, file));
                var actual = Load(Path.Combine(b, file));
                CollectionAssert.AreEqual(expected.Keys.ToArray(), actual.Keys.ToArray(), file);
                foreach (var k in expected.Keys) CollectionAssert.AreEqual(expected[k], actual[k], $"{file} '{k}' differs after kill -9 and resume");
            }
            var summaryA = File.ReadAllText(Path.Combine(a, "summary.json"));
            var summaryB = File.ReadAllText(Path.Combine(b, "summary.json"));
            string Line(string s, string key) => s.Split('\n').First(l => l.Contains($"\"{key}\""));
            Assert.AreEqual(Line(summaryA, "test_accuracy"), Line(summaryB, "test_accuracy"));

            // The metrics file holds every step exactly once, the re-run steps trimmed on resume.
            var steps = File.ReadAllLines(Path.Combine(b, "metrics.csv")).Skip(1).Where(l => l.StartsWith("step,"))
                .Select(l => long.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
            var expectedSteps = File.ReadAllLines(Path.Combine(a, "metrics.csv")).Skip(1).Where(l => l.StartsWith("step,"))
                .Select(l => long.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
            CollectionAssert.AreEqual(expectedSteps, steps);
        }
        finally { Directory.Delete(dir, true); }
    }
}
