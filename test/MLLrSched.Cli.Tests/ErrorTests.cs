using System.Diagnostics;
using System.IO.Compression;
using System.Text;

namespace MLLrSched.Cli.Tests;

/// <summary>Every failure is one clear message with a documented exit code, found before training starts where it is
/// knowable, and nothing is written for a refused run. (The runner fails any test whose output holds a stack trace.)</summary>
[TestClass]
public class ErrorTests
{
    private static CliResult Refused(Workspace w, string config, int code = 2, params string[] expected)
    {
        w.Write("c.json", config);
        var r = w.Train("--config", "c.json", "--out", "run");
        Assert.AreEqual(code, r.ExitCode, r.ToString());
        foreach (var e in expected) StringAssert.Contains(r.Stderr, e);
        Assert.IsFalse(Directory.Exists(w["run"]), "a refused run writes nothing\n" + r);
        return r;
    }

    [TestMethod]
    public void ScheduleHorizonsAndMonitorsAreCheckedBeforeTraining()
    {
        using var w = new Workspace();
        w.Standard(Configs.Small);
        var r = Refused(w, Configs.With(Configs.Small, "scheduler", """{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 10}"""), 2, "OneCycleLR", "total_steps = 10", "$total_steps");
        Assert.IsFalse(r.Stdout.Contains("step 1/", StringComparison.Ordinal), "no step was taken");
        Refused(w, Configs.With(Configs.With(Configs.Small, "scheduler", """{"type": "ReduceLROnPlateau"}"""), "data",
            """{"type": "csv", "train": "train.csv", "validation": "none"}""").Replace("\"log_every", "\"scheduler_interval\": \"epoch\", \"log_every"),
            2, "ReduceLROnPlateau", "no validation metric");
        Refused(w, Configs.With(Configs.With(Configs.Small, "early_stopping", """{"patience": 2}"""), "evaluate_every_epoch", "false"), 2,
            "early_stopping monitors 'val_loss'", "evaluate_every_epoch");
        Refused(w, Configs.With(Configs.Small, "scheduler", """{"type": "ReduceLROnPlateau"}"""), 2, "scheduler_interval");
    }

    [TestMethod]
    public void ConfigMistakesNameTheKey()
    {
        using var w = new Workspace();
        w.Standard(Configs.Small);
        var timer = Stopwatch.StartNew();
        Refused(w, Configs.With(Configs.Small, "threads", "100000"), 2, "'threads' = 100000", "at most");
        Assert.IsTrue(timer.Elapsed < TimeSpan.FromSeconds(20), "refused at once, no hang");
        var big = Refused(w, Configs.With(Configs.Small, "batch_size", "4294967296"), 2, "too large");
        Assert.IsFalse(big.Stderr.Contains("= 0", StringComparison.Ordinal) || big.Stderr.Contains("= -1", StringComparison.Ordinal));
        Refused(w, Configs.With(Configs.Small, "gradient_accumulation_steps", "2147483647"), 2, "gradient_accumulation_steps", "at most 17");
        Refused(w, Configs.Small.Replace("\"seed\": 3,", "\"seed\": 3, \"seed\": 4,"), 2, "'seed' appears twice");
        Refused(w, Configs.Small.Replace("\"lr\": 0.01", "\"lr\": 0.01, \"lr\": 0.1"), 2, "'optimizer.lr' appears twice");
        Refused(w, Configs.With(Configs.Small, "data", """{"type": "csv", "train": "train.csv", "ignore_columns": "f0"}"""), 2, "ignore_columns", "expected an array");
        Refused(w, Configs.With(Configs.Small, "device", "\"gpu\""), 2, "'gpu'", "cuda");
        Refused(w, Configs.With(Configs.Small, "device", "\"cuda\""), 2, "\"device\": cuda is not available");
        Refused(w, Configs.With(Configs.Small, "model", """{"hidden_sizes": [2000000000]}"""), 2, "parameters", "GB", "more than this machine's");
        Refused(w, "{\"epochs\": 2,\n  \"data\": {\"type\": \"csv\", \"train\": \"train.csv\"\n}", 2, "not valid JSON", "line 3");
    }

    [TestMethod]
    public void CsvProblemsNameTheFileTheTrueLineAndTheColumn()
    {
        using var w = new Workspace();
        w.Standard(Configs.Small);
        var csv = Configs.With(Configs.Small, "data", """{"type": "csv", "train": "bad.csv", "validation": "none"}""");
        w.Write("bad.csv", "a,b,label\n1,2,0\n\n\n3,x,1\n");
        Refused(w, csv, 2, "bad.csv, line 5, column 'b': 'x' is not a finite number");
        w.Write("bad.csv", "a,b,label\n1,2,0\n\"3,4,1\n5,6,1\n");
        Refused(w, csv, 2, "bad.csv, lines 3–4", "quoting");
        w.Write("bad.csv", "a,b,label\n1,2,0\n\n3,4,1000000000\n");
        Refused(w, csv, 2, "bad.csv, line 4, column 'label': label 1000000000", "class_count");
        w.Write("bad.csv", "a,b,label\n1,2,0\n3,4,2.5\n");
        Refused(w, csv, 2, "line 3", "not a whole number");
        w.Write("bad.csv", "a,b,label\n1,2,0\n3,4\n");
        Refused(w, csv, 2, "line 3: 2 fields, expected 3");
        // lr-find reads the same files with the same messages.
        w.Write("bad.csv", "a,b,label\n1,2,0\n\"3,4,1\n5,6,1\n");
        var lf = Cli.Run(w.Dir, "lr-find", "--data", "bad.csv", "--out", "lf");
        Assert.AreEqual(2, lf.ExitCode, lf.ToString());
        StringAssert.Contains(lf.Stderr, "lines 3–4");
    }

    [TestMethod]
    public void DamagedFashionMnistFilesAreRefused()
    {
        using var w = new Workspace();
        var source = "/usr/share/datasets/fashion-mnist";
        if (!File.Exists(Path.Combine(source, "t10k-labels-idx1-ubyte.gz"))) Assert.Inconclusive("dataset-fashion-mnist is not installed");
        // The small test split only: the train files are replaced by the test files (the reader does not care).
        void Folder(string name, Func<string, byte[], byte[]>? change = null)
        {
            Directory.CreateDirectory(w[name]);
            foreach (var (target, from) in new[] { ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"), ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
                         ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"), ("t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz") })
            {
                var bytes = File.ReadAllBytes(Path.Combine(source, from));
                File.WriteAllBytes(Path.Combine(w[name], target), change?.Invoke(target, bytes) ?? bytes);
            }
        }
        string Config(string dir) => $$"""{"data": {"type": "fashion-mnist", "directory": "{{dir}}", "train_subset": 100}, "epochs": 1, "threads": 1}""";

        // 200 bytes of the compressed labels flipped: the gzip check fails.
        Folder("crc", (name, b) =>
        {
            if (name != "train-labels-idx1-ubyte.gz") return b;
            for (var i = b.Length / 2; i < b.Length / 2 + 200; i++) b[i] ^= 0x5A;
            return b;
        });
        Refused(w, Config("crc"), 2, "train-labels-idx1-ubyte.gz", "damaged");
        // Only the trailer's CRC changed (the data inflates fine): our own CRC check finds it.
        Folder("trailer", (name, b) =>
        {
            if (name == "train-labels-idx1-ubyte.gz") b[^8] ^= 0xFF;
            return b;
        });
        Refused(w, Config("trailer"), 2, "train-labels-idx1-ubyte.gz", "damaged");
        // A header claiming 60000 × 100000 × 100000 images: refused before anything is allocated.
        Folder("header", (name, b) =>
        {
            if (name != "train-images-idx3-ubyte.gz") return b;
            using var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
                gz.Write([0, 0, 8, 3, 0, 0, 0xEA, 0x60, 0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 1, 2, 3]);
            return ms.ToArray();
        });
        Refused(w, Config("header"), 2, "60000 × 100000 × 100000", "damaged");
    }

    [TestMethod]
    public void ScheduleStreamsItsCsvInConstantMemory()
    {
        using var w = new Workspace();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Cli.Dll(), "schedule", "--lr", "0.1", "--spec", """{"type": "CosineAnnealingLR", "T_max": 1000}""", "--steps", "2000000000" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var buffer = new char[1 << 16];
        long read = 0;
        var timer = Stopwatch.StartNew();
        while (read < 20_000_000 && timer.Elapsed < TimeSpan.FromSeconds(60)) read += p.StandardOutput.Read(buffer, 0, buffer.Length);
        var peak = File.ReadAllLines($"/proc/{p.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        p.Kill();
        p.WaitForExit();
        Assert.IsTrue(read >= 20_000_000, $"20 MB of rows within a minute (read {read})");
        var kb = long.Parse(peak.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        Assert.IsTrue(kb < 400_000, $"peak memory {kb} kB while streaming 2e9 rows");

        var chart = Cli.Run(w.Dir, "schedule", "--lr", "0.1", "--spec", """{"type": "StepLR", "step_size": 10}""", "--steps", "2000000000", "--format", "svg");
        Assert.AreEqual(2, chart.ExitCode);
        StringAssert.Contains(chart.Stderr, "use --format csv");
    }

    [TestMethod]
    public void HelpListsTheExitCodesAndUsageErrorsExitWith2()
    {
        using var w = new Workspace();
        var help = Cli.Run(w.Dir, "--help");
        Assert.AreEqual(0, help.ExitCode);
        foreach (var code in new[] { "  0  ", "  1  ", "  2  ", "  3  ", "  4  ", "  5  ", "130  ", "143  " }) StringAssert.Contains(help.Stdout, code);
        // docs/trainer.md's table has every code --help lists.
        var docs = File.ReadAllText(Path.Combine(Cli.RepoRoot(), "docs", "trainer.md"));
        foreach (var line in help.Stdout.Split('\n').SkipWhile(l => !l.Contains("Exit codes:", StringComparison.Ordinal)).Skip(1))
        {
            var t = line.Trim();
            if (t.Length == 0 || !char.IsDigit(t[0])) break;
            var code = t.Split(' ')[0];
            Assert.IsTrue(docs.Contains($"| {code} |", StringComparison.Ordinal) || docs.Contains($" {code},", StringComparison.Ordinal) || docs.Contains($", {code} |", StringComparison.Ordinal),
                $"docs/trainer.md documents exit code {code}");
        }
        var trainHelp = Cli.Run(w.Dir, "train", "--help");
        StringAssert.Contains(trainHelp.Stdout, "--overwrite");
        StringAssert.Contains(trainHelp.Stdout, "Exit codes:");
        var usage = Cli.Run(w.Dir, "train", "--config");
        Assert.AreEqual(2, usage.ExitCode, usage.ToString());
        var unknown = Cli.Run(w.Dir, "trian");
        Assert.AreEqual(2, unknown.ExitCode, unknown.ToString());
        var noConfig = Cli.Run(w.Dir, "train", "--out", "x");
        Assert.AreEqual(2, noConfig.ExitCode, noConfig.ToString());
        StringAssert.Contains(noConfig.Stderr, "--config is required");
    }
}
