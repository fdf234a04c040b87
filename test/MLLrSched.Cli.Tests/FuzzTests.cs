using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace MLLrSched.Cli.Tests;

/// <summary>
/// Generated bad configs and bad data files (FsCheck generators) fed to <c>mllrsched train</c>, as a new run and as a
/// resume of an interrupted run: no unhandled exception or stack trace, an exit code from the documented set (never 1,
/// the internal error), and where the run was refused (2, 4) the output folder exactly as it was. The cases come from a
/// fixed seed (MLLRSCHED_FUZZ_SEED to change it, MLLRSCHED_FUZZ_CASES for more cases); a failure prints the case.
/// </summary>
[TestClass]
public class FuzzTests
{
    private static readonly int[] Documented = [0, 2, 3, 4, 5, 129, 130, 143];

    /// <summary>A small run that always ends quickly (max_steps), whatever else a case changes.</summary>
    private const string Base = """
    {
      "seed": 1, "threads": 1,
      "data": {"type": "csv", "train": "train.csv", "test": "test.csv", "validation": "split", "validation_fraction": 0.2},
      "model": {"type": "mlp", "hidden_sizes": [8], "dropout": 0.1},
      "task": {"label_smoothing": 0.0},
      "optimizer": {"type": "AdamW", "lr": 0.01},
      "scheduler": {"type": "linear", "num_warmup_steps": 2, "num_training_steps": 100},
      "epochs": 40, "max_steps": 8, "batch_size": 8,
      "ema": {"decay": 0.9}, "early_stopping": {"monitor": "val_loss", "patience": 3},
      "clip_grad_norm": 1.0,
      "log_every_n_steps": 1, "checkpoint_every_n_steps": 2
    }
    """;

    private static readonly string[] Keys =
    [
        "data", "data.type", "data.train", "data.test", "data.validation", "data.validation_fraction", "data.train_subset", "data.label_column",
        "data.weight_column", "data.ignore_columns", "data.class_count", "data.delimiter", "data.has_header", "data.task", "data.directory",
        "model", "model.type", "model.hidden_sizes", "model.dropout", "model.activation", "model.normalization", "model.channels",
        "task", "task.label_smoothing", "task.class_weights", "task.loss",
        "optimizer", "optimizer.type", "optimizer.lr", "optimizer.betas", "optimizer.weight_decay", "optimizer.momentum",
        "scheduler", "scheduler.type", "scheduler.num_warmup_steps", "scheduler.num_training_steps", "scheduler_interval", "scheduler_monitor",
        "epochs", "max_steps", "batch_size", "gradient_accumulation_steps", "shuffle", "drop_last", "seed", "threads", "device", "fallback_to_cpu",
        "clip_grad_norm", "clip_grad_value", "adaptive_clip", "nonfinite", "ema", "ema.decay", "swa", "early_stopping", "early_stopping.monitor",
        "early_stopping.patience", "log_every_n_steps", "checkpoint_every_n_steps", "evaluate_every_epoch", "eval_batch_size", "engine",
        "lr_find", "unknown_key", "data.unknown_key",
    ];

    private static readonly string[] Values =
    [
        "<remove>", "null", "true", "false", "0", "-1", "1", "2", "0.5", "1e30", "-1e30", "1e308", "2147483648", "9223372036854775808", "1e-320",
        "\"inf\"", "\"-inf\"", "\"nan\"", "\"\"", "\"x\"", "\"$total_steps\"", "\"$epochs\"", "[]", "[1, 2]", "[-1]", "[1e9]", "[\"a\"]", "{}",
        "{\"type\": \"x\"}", "{\"type\": \"SGD\", \"lr\": 0.1}", "{\"type\": \"OneCycleLR\", \"max_lr\": 0.1, \"total_steps\": 3}",
        "{\"type\": \"ReduceLROnPlateau\"}", "{\"monitor\": \"ema_val_accuracy\"}", "\"gpu\"", "\"cuda:7\"", "\"cpu\"", "\"epoch\"", "\"val_accuracy\"",
        "\"train.csv\"", "\"missing.csv\"", "\"/\"", "\"split\"", "\"none\"", "\"test\"", "\"cnn\"", "\"relu\"", "\"skip\"", "\"raise\"",
        "\"" + new string('z', 2000) + "\"", "\"\\u0000é\"",
    ];

    /// <summary>What a case does to the config text: a key set to a value (1–2 times), then maybe a text-level change.</summary>
    private static Gen<string> ConfigGen()
    {
        var edit = from key in Gen.Elements(Keys) from value in Gen.Elements(Values) select (key, value);
        var edits = Gen.Choose(1, 2).SelectMany(n => edit.ArrayOf(n));
        var textChange = Gen.Elements("truncate", "duplicate-line", "garbage", "empty", "array", "comment");
        return Gen.Frequency(
            (35, Gen.Constant(Base)),                                           // a valid config: the data file is what is bad
            (40, edits.Select(e => Apply(Base, e))),                            // keys set to odd values, or removed
            (25, from e in edits from change in textChange from position in Gen.Choose(0, 10_000)
                 select ChangeText(Apply(Base, e), change, position)));         // and the text damaged
    }

    private static string Apply(string config, (string Key, string Value)[] edits)
    {
        var root = JsonNode.Parse(config)!.AsObject();
        foreach (var (key, value) in edits)
        {
            var parts = key.Split('.');
            var target = root;
            foreach (var p in parts[..^1])
            {
                if (target[p] is not JsonObject child) { target[p] = child = new JsonObject(); }
                target = child;
            }
            if (value == "<remove>") target.Remove(parts[^1]);
            else target[parts[^1]] = JsonNode.Parse(value);
        }
        return root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    private static string ChangeText(string text, string change, int position)
    {
        var at = position % Math.Max(1, text.Length);
        var lines = text.Split('\n');
        return change switch
        {
            "truncate" => text[..at],
            "duplicate-line" => string.Join('\n', lines.Take(at % lines.Length + 1).Concat(lines.Skip(at % lines.Length))),
            "garbage" => text[..at] + "\u0001}{" + text[at..],
            "empty" => "",
            "array" => "[" + text + "]",
            "comment" => "// a comment\n" + text.Replace(",\n", ", /* c */\n"),
            _ => text,
        };
    }

    private static readonly string[] DataChanges =
        ["none", "none", "none", "none", "none", "none", "none", "none", "none", "none", "blank-lines", "open-quote", "stray-quote", "word", "huge-label", "negative-label", "ragged", "empty", "header-only",
         "binary", "nan", "long-line", "bom", "semicolons", "float-label", "inf"];

    private static string ChangeData(string csv, string change, int position)
    {
        var lines = csv.TrimEnd('\n').Split('\n').ToList();
        var row = 1 + position % (lines.Count - 1);
        string Cell(string line, int column, string value)
        {
            var cells = line.Split(',');
            cells[column % cells.Length] = value;
            return string.Join(',', cells);
        }
        switch (change)
        {
            case "blank-lines": lines.Insert(row, ""); lines.Insert(row, ""); break;
            case "open-quote": lines[row] = "\"" + lines[row]; break;
            case "stray-quote": lines[row] = lines[row].Insert(3, "\""); break;
            case "word": lines[row] = Cell(lines[row], position, "abc"); break;
            case "huge-label": lines[row] = Cell(lines[row], 10, "1000000000"); break;
            case "negative-label": lines[row] = Cell(lines[row], 10, "-3"); break;
            case "float-label": lines[row] = Cell(lines[row], 10, "1.5"); break;
            case "ragged": lines[row] += ",7"; break;
            case "empty": return "";
            case "header-only": return lines[0] + "\n";
            case "binary": return "\u0000\u0001\u00ff" + csv[..(csv.Length / 2)];
            case "nan": lines[row] = Cell(lines[row], position, "NaN"); break;
            case "inf": lines[row] = Cell(lines[row], position, "1e999"); break;
            case "long-line": lines[row] = Cell(lines[row], position, new string('9', 100_000)); break;
            case "bom": return "\uFEFF" + csv;
            case "semicolons": return csv.Replace(',', ';');
        }
        return string.Join('\n', lines) + "\n";
    }

    private sealed record Case(string Config, string DataChange, int Position, string Scenario)
    {
        public override string ToString() => $"scenario {Scenario}, data change '{DataChange}' at {Position}, config:\n{Config}";
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public void BadConfigsAndFilesEndWithADocumentedCodeAndLeaveRefusedFoldersUntouched()
    {
        var seed = ulong.Parse(Environment.GetEnvironmentVariable("MLLRSCHED_FUZZ_SEED") ?? "20240601", CultureInfo.InvariantCulture);
        var count = int.Parse(Environment.GetEnvironmentVariable("MLLRSCHED_FUZZ_CASES") ?? "60", CultureInfo.InvariantCulture);
        var gen = from config in ConfigGen()
                  from data in Gen.Elements(DataChanges)
                  from position in Gen.Choose(0, 100_000)
                  from scenario in Gen.Elements("new", "new", "resume", "existing")
                  select new Case(config, data, position, scenario);
        var cases = gen.Sample(count, new Rnd(seed), 10);

        using var w = new Workspace();
        var train = File.ReadAllText(w.Data("train.csv", 80, 1));
        w.Data("test.csv", 40, 2);
        w.Write("base.json", Base);
        Assert.AreEqual(0, w.Train("--config", "base.json", "--out", "finished").ExitCode, "the base config runs");
        // An interrupted run to resume, trained in the folder every resume case runs in (its checkpoint records the data
        // paths it read), then kept as a template.
        var area = w["area"];
        Directory.CreateDirectory(area);
        foreach (var f in new[] { "train.csv", "test.csv" }) File.Copy(w[f], Path.Combine(area, f));
        File.WriteAllText(Path.Combine(area, "config.json"), Base.Replace("\"max_steps\": 8", "\"max_steps\": 400"));
        var interrupted = Cli.Run(area, ["train", "--config", "config.json", "--out", "run"], l => Cli.StepOf(l) >= 3);
        Assert.IsTrue(interrupted.Stopped && File.Exists(Path.Combine(area, "run/checkpoint.pt")), interrupted.ToString());
        Copy(area, w["template"]);

        var tally = new SortedDictionary<int, int>();
        for (var i = 0; i < cases.Length; i++)
        {
            var c = cases[i];
            var dir = c.Scenario == "resume" ? area : w[$"case{i}"];
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            if (c.Scenario == "resume") Copy(w["template"], dir);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "train.csv"), ChangeData(train, c.DataChange, c.Position));
            File.Copy(w["test.csv"], Path.Combine(dir, "test.csv"), overwrite: true);
            File.WriteAllText(Path.Combine(dir, "config.json"), c.Config);
            var args = new List<string> { "train", "--config", "config.json", "--out", "run" };
            if (c.Scenario == "resume") args.Add("--resume");
            if (c.Scenario == "existing") Copy(w["finished"], Path.Combine(dir, "run"));
            var before = Snapshot.Of(Path.Combine(dir, "run"));
            var r = RunBounded(dir, args);
            var context = $"case {i} (seed {seed}): {c}\n{r}";
            Assert.Contains(r.ExitCode, Documented, "an undocumented exit code\n" + context);
            Cli.AssertNoStackTrace(r);
            if (r.ExitCode is 2 or 4)
            {
                Assert.IsTrue(r.Stderr.StartsWith("error: ", StringComparison.Ordinal) || r.Stderr.Contains("\nerror: ", StringComparison.Ordinal), "a refusal says why\n" + context);
                Snapshot.AssertSame(before, Path.Combine(dir, "run"), context);
            }
            if (c.Scenario == "existing" && r.ExitCode != 2) Assert.AreEqual(4, r.ExitCode, "a new run into a finished run's folder is refused\n" + context);
            tally[r.ExitCode] = tally.GetValueOrDefault(r.ExitCode) + 1;
            if (Environment.GetEnvironmentVariable("MLLRSCHED_FUZZ_VERBOSE") == "1")
                Console.WriteLine($"case {i} {c.Scenario} {c.DataChange}: exit {r.ExitCode} {r.Stderr.Split('\n').FirstOrDefault(l => l.StartsWith("error", StringComparison.Ordinal))}");
            if (c.Scenario != "resume") Directory.Delete(dir, true);
        }
        Console.WriteLine("exit codes: " + string.Join(", ", tally.Select(kv => $"{kv.Key}×{kv.Value}")));
        Assert.IsTrue(tally.Keys.Count >= 3, "the cases reach several endings: " + string.Join(", ", tally));
    }

    /// <summary>Runs a case; one that trains longer than 30 s (a case can make a run long) gets SIGTERM, which must end
    /// it the documented way.</summary>
    private static CliResult RunBounded(string dir, List<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        psi.ArgumentList.Add(Cli.Dll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var stopped = false;
        if (!p.WaitForExit(30_000))
        {
            stopped = true;
            Cli.Signal(p, "TERM");
            if (!p.WaitForExit(60_000)) { p.Kill(true); Assert.Fail("a case did not stop after SIGTERM"); }
        }
        p.WaitForExit();
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result, stopped);
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)), overwrite: true);
        foreach (var d in Directory.GetDirectories(from)) Copy(d, Path.Combine(to, Path.GetFileName(d)));
    }
}
