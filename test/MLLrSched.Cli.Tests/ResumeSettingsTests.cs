namespace MLLrSched.Cli.Tests;

/// <summary>A resume compares the checkpoint's recorded config with the new one key by key: settings that define the
/// run refuse (listing every difference, folder untouched), the others are applied with a note.</summary>
[TestClass]
public class ResumeSettingsTests
{
    /// <summary>A run killed at step 12 of a long schedule (fixed horizon), ready to be resumed.</summary>
    private static Workspace Interrupted()
    {
        var w = new Workspace();
        w.Standard(Configs.With(Configs.Small, "epochs", "40"));
        var killed = Cli.Run(w.Dir, ["train", "--config", "config.json", "--out", "run"], l => Cli.StepOf(l) >= 12);
        Assert.IsTrue(killed.Stopped, killed.ToString());
        return w;
    }

    [TestMethod]
    public void SettingsThatDefineTheRunAreRefusedWithTheListOfDifferences()
    {
        using var w = Interrupted();
        var before = Snapshot.Of(w["run"]);
        var changed = Configs.With(Configs.Small, "epochs", "40");
        changed = Configs.With(changed, "optimizer", """{"type": "AdamW", "lr": 0.02}""");
        changed = Configs.With(changed, "scheduler", """{"type": "cosine", "num_warmup_steps": 10, "num_training_steps": 200}""");
        changed = Configs.With(changed, "model", """{"type": "mlp", "hidden_sizes": [16], "dropout": 0.3, "activation": "gelu"}""");
        changed = Configs.With(changed, "data", """{"type": "csv", "train": "train.csv", "test": "test.csv", "validation": "split", "validation_fraction": 0.1, "train_subset": 200}""");
        changed = Configs.With(changed, "seed", "4");
        changed = Configs.With(changed, "batch_size", "32");
        w.Write("changed.json", changed);
        var r = w.Train("--config", "changed.json", "--out", "run", "--resume");
        Assert.AreEqual(4, r.ExitCode, r.ToString());
        foreach (var key in new[] { "optimizer.lr: 0.01 → 0.02", "scheduler.type: \"linear\" → \"cosine\"", "model.dropout: 0.1 → 0.3",
                     "model.activation: \"relu\" → \"gelu\"", "data.train_subset: null → 200", "seed: 3 → 4", "batch_size: 16 → 32" })
            StringAssert.Contains(r.Stderr, key);
        StringAssert.Contains(r.Stderr, "leave --config out to use the recorded one");
        Snapshot.AssertSame(before, w["run"], "refused resume");
    }

    [TestMethod]
    public void EpochsLoggingAndCheckpointCadenceMayChangeWithANote()
    {
        using var w = Interrupted();
        var changed = Configs.With(Configs.With(Configs.With(Configs.Small, "epochs", "41"), "log_every_n_steps", "7"), "checkpoint_every_n_steps", "0");
        w.Write("changed.json", changed);
        var r = Cli.Run(w.Dir, ["train", "--config", "changed.json", "--out", "run", "--resume"], l => Cli.StepOf(l) is > 12, "TERM");
        StringAssert.Contains(r.Stderr, "resume applies a changed setting: epochs: 40 → 41");
        StringAssert.Contains(r.Stderr, "log_every_n_steps: 1 → 7");
        StringAssert.Contains(r.Stderr, "checkpoint_every_n_steps: 5 → 0");
        Assert.AreEqual(143, r.ExitCode, r.ToString());
    }

    [TestMethod]
    public void ExtendingARunWhoseScheduleHorizonComesFromItsLengthIsRefused()
    {
        using var w = new Workspace();
        var config = Configs.With(Configs.With(Configs.Small, "scheduler", """{"type": "cosine", "num_warmup_steps": 5, "num_training_steps": "$total_steps"}"""), "epochs", "2");
        w.Standard(config);
        Assert.AreEqual(0, w.Train("--config", "config.json", "--out", "run").ExitCode);
        w.Write("longer.json", Configs.With(config, "epochs", "3"));
        var before = Snapshot.Of(w["run"]);
        var r = w.Train("--config", "longer.json", "--out", "run", "--resume");
        Assert.AreEqual(4, r.ExitCode, r.ToString());
        StringAssert.Contains(r.Stderr, "epochs: 2 → 3");
        StringAssert.Contains(r.Stderr, "$total_steps");
        Snapshot.AssertSame(before, w["run"], "refused resume");
    }

    [TestMethod]
    public void ExtendingAFinishedRunContinuesItsHistoryAndArchivesItsFinalFiles()
    {
        using var w = new Workspace();
        w.Standard(Configs.With(Configs.Small, "epochs", "2"));
        Assert.AreEqual(0, w.Train("--config", "config.json", "--out", "run").ExitCode);
        var same = w.Train("--out", "run", "--resume");
        Assert.AreEqual(0, same.ExitCode, same.ToString());
        StringAssert.Contains(same.Stderr, "nothing to do");
        w.Write("longer.json", Configs.With(Configs.Small, "epochs", "3"));
        var r = w.Train("--config", "longer.json", "--out", "run", "--resume");
        Assert.AreEqual(0, r.ExitCode, r.ToString());
        StringAssert.Contains(r.Stderr, "its final files");
        Assert.AreEqual(1, Directory.GetDirectories(w["run/archive"]).Length);
        var epochs = File.ReadAllLines(w["run/metrics.csv"]).Count(l => l.StartsWith("epoch,", StringComparison.Ordinal));
        Assert.AreEqual(3, epochs, "one history: epochs 0, 1 and 2 once each");
    }

    [TestMethod]
    public void ACheckpointOrFolderGivenToTheWrongOptionSaysWhatToUse()
    {
        using var w = new Workspace();
        w.Standard(Configs.Small);
        Assert.AreEqual(0, w.Train("--config", "config.json", "--out", "run").ExitCode);
        var init = w.Train("--config", "config.json", "--out", "other", "--init", "run/checkpoint.pt");
        Assert.AreEqual(2, init.ExitCode, init.ToString());
        StringAssert.Contains(init.Stderr, "is an MLLrSched checkpoint, not a state_dict. To continue that run: --resume");
        Assert.IsFalse(init.Stderr.Contains("LoadCheckpoint", StringComparison.Ordinal), "no C# API for a CLI user");
        var resume = w.Train("--config", "config.json", "--out", "other2", "--resume", "run/model.pt");
        Assert.AreEqual(2, resume.ExitCode, resume.ToString());
        StringAssert.Contains(resume.Stderr, "use --init");
        var folder = w.Train("--config", w.Dir, "--out", "x");
        Assert.AreEqual(2, folder.ExitCode);
        StringAssert.Contains(folder.Stderr, "is a folder; give the run config's JSON file");
        var emptyDir = Directory.CreateDirectory(w["empty"]).FullName;
        var resumeDir = w.Train("--resume", emptyDir);
        Assert.AreEqual(2, resumeDir.ExitCode);
        StringAssert.Contains(resumeDir.Stderr, "has no checkpoint.pt (it is empty)");
        Assert.IsFalse(Directory.Exists(w["other"]) || Directory.Exists(w["other2"]) || Directory.Exists(w["x"]));
    }
}
