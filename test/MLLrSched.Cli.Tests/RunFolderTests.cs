using System.Text.Json;

namespace MLLrSched.Cli.Tests;

/// <summary>A run folder is one run's record: never silently mixed or overwritten, and summary.json says how every
/// ending ended.</summary>
[TestClass]
public class RunFolderTests
{
    private static JsonElement Summary(Workspace w, string folder) => JsonDocument.Parse(File.ReadAllText(w[$"{folder}/summary.json"])).RootElement;

    [TestMethod]
    public void ASecondRunIntoAFinishedRunsFolderIsRefusedAndTheFolderIsUntouched()
    {
        using var w = new Workspace();
        w.Standard(Configs.Small);
        Assert.AreEqual(0, w.Train("--config", "config.json", "--out", "run").ExitCode);
        var before = Snapshot.Of(w["run"]);
        var again = w.Train("--config", "config.json", "--out", "run");
        Assert.AreEqual(4, again.ExitCode, again.ToString());
        StringAssert.Contains(again.Stderr, "already holds a completed run");
        StringAssert.Contains(again.Stderr, "--overwrite");
        StringAssert.Contains(again.Stderr, "--resume");
        Snapshot.AssertSame(before, w["run"], "refused run");
    }

    [TestMethod]
    public void ANewRunIntoAnInterruptedRunsFolderIsRefusedAndOffersResume()
    {
        using var w = new Workspace();
        w.Standard(Configs.With(Configs.Small, "epochs", "40"));
        var killed = Cli.Run(w.Dir, ["train", "--config", "config.json", "--out", "run"], l => Cli.StepOf(l) >= 12);
        Assert.IsTrue(killed.Stopped);
        var before = Snapshot.Of(w["run"]);
        var again = w.Train("--config", "config.json", "--out", "run");
        Assert.AreEqual(4, again.ExitCode, again.ToString());
        StringAssert.Contains(again.Stderr, "killed while training");
        StringAssert.Contains(again.Stderr, "mllrsched train --resume run");
        Snapshot.AssertSame(before, w["run"], "refused run");
    }

    [TestMethod]
    public void OverwriteArchivesThePreviousRunAndStartsAFreshHistory()
    {
        using var w = new Workspace();
        w.Standard(Configs.Small);
        Assert.AreEqual(0, w.Train("--config", "config.json", "--out", "run").ExitCode);
        var firstMetrics = File.ReadAllText(w["run/metrics.csv"]);
        var second = w.Train("--config", "config.json", "--out", "run", "--overwrite");
        Assert.AreEqual(0, second.ExitCode, second.ToString());
        StringAssert.Contains(second.Stderr, "--overwrite: moved the previous run's files to");
        var archived = Directory.GetDirectories(w["run/archive"]).Single();
        Assert.AreEqual(firstMetrics, File.ReadAllText(Path.Combine(archived, "metrics.csv")), "the previous run is kept whole");
        foreach (var f in new[] { "checkpoint.pt", "model.pt", "summary.json", "lr.csv", "config.json" })
            Assert.IsTrue(File.Exists(Path.Combine(archived, f)), f);
        // One run's history: the same number of rows as the first run, not twice as many.
        Assert.AreEqual(firstMetrics.Split('\n').Length, File.ReadAllText(w["run/metrics.csv"]).Split('\n').Length);
    }

    [TestMethod]
    public void ADivergedRunEndsWithExitCode3AndADivergedSummary()
    {
        using var w = new Workspace();
        w.Standard(Configs.With(Configs.Small, "optimizer", """{"type": "SGD", "lr": 1e30}"""));
        var r = w.Train("--config", "config.json", "--out", "huge");
        Assert.AreEqual(3, r.ExitCode, r.ToString());
        var s = Summary(w, "huge");
        Assert.AreEqual("diverged", s.GetProperty("status").GetString());
        Assert.AreEqual(3, s.GetProperty("exit_code").GetInt32());
        StringAssert.Contains(s.GetProperty("message").GetString(), "NaN");
        Assert.IsTrue(File.Exists(w["huge/lr.png"]) && File.Exists(w["huge/checkpoint.pt"]));

        // An infinite lr is refused before training, with nothing written.
        w.Write("inf.json", Configs.With(Configs.Small, "optimizer", """{"type": "SGD", "lr": "inf"}"""));
        var inf = w.Train("--config", "inf.json", "--out", "inf");
        Assert.AreEqual(2, inf.ExitCode, inf.ToString());
        StringAssert.Contains(inf.Stderr, "finite");
        Assert.IsFalse(Directory.Exists(w["inf"]));
    }

    [TestMethod]
    public void EveryEndingWritesASummaryThatSaysWhich()
    {
        using var w = new Workspace();
        w.Standard(Configs.Small);
        Assert.AreEqual(0, w.Train("--config", "config.json", "--out", "done").ExitCode);
        Assert.AreEqual("completed", Summary(w, "done").GetProperty("status").GetString());

        // Early stopping on the training loss with a zero learning rate: no improvement after the first epoch.
        w.Write("es.json", Configs.With(Configs.With(Configs.Small, "early_stopping", """{"monitor": "train_loss", "patience": 1}"""),
            "optimizer", """{"type": "SGD", "lr": 0.0}"""));
        var es = w.Train("--config", "es.json", "--out", "es");
        Assert.AreEqual(0, es.ExitCode, es.ToString());
        Assert.AreEqual("early_stopped", Summary(w, "es").GetProperty("status").GetString());

        // A failure after training started (lr.csv cannot be written): "failed", exit 5, the checkpoint kept.
        w.Write("long.json", Configs.With(Configs.Small, "epochs", "40"));
        var killed = Cli.Run(w.Dir, ["train", "--config", "long.json", "--out", "fail"], l => Cli.StepOf(l) >= 12);
        Assert.IsTrue(killed.Stopped);
        var checkpoint = File.ReadAllBytes(w["fail/checkpoint.pt"]);
        File.Delete(w["fail/lr.csv"]);
        Directory.CreateDirectory(w["fail/lr.csv"]);
        var failed = w.Train("--out", "fail", "--resume");
        Assert.AreEqual(5, failed.ExitCode, failed.ToString());
        var s = Summary(w, "fail");
        Assert.AreEqual("failed", s.GetProperty("status").GetString());
        StringAssert.Contains(s.GetProperty("next").GetString(), "--resume");
        CollectionAssert.AreEqual(checkpoint, File.ReadAllBytes(w["fail/checkpoint.pt"]), "the checkpoint written before is intact");
    }

    [TestMethod]
    [DataRow("TERM", 143)]
    [DataRow("INT", 130)]
    public void ASignalWritesACheckpointAndAnInterruptedSummaryAndResumeContinues(string signal, int code)
    {
        using var w = new Workspace();
        w.Standard(Configs.With(Configs.Small, "epochs", "40"));
        var r = Cli.Run(w.Dir, ["train", "--config", "config.json", "--out", "run"], l => Cli.StepOf(l) >= 20, signal);
        Assert.AreEqual(code, r.ExitCode, r.ToString());
        StringAssert.Contains(r.Stderr, $"SIG{signal}: stopping after this optimizer step");
        var s = Summary(w, "run");
        Assert.AreEqual("interrupted", s.GetProperty("status").GetString());
        Assert.AreEqual(code, s.GetProperty("exit_code").GetInt32());
        var step = s.GetProperty("steps").GetInt64();
        Assert.IsTrue(File.Exists(w["run/checkpoint.pt"]));
        var resumed = Cli.Run(w.Dir, ["train", "--out", "run", "--resume"], l => Cli.StepOf(l) is { } k, "TERM");
        StringAssert.Contains(resumed.Stdout, $"at optimizer step {step}", "resumed where the signal stopped it");
    }

    [TestMethod]
    public void ASignalBeforeTrainingEndsTheProcessWithoutWritingAnything()
    {
        using var w = new Workspace();
        w.Data("train.csv", 150_000, 1);   // a few seconds of loading
        w.Data("test.csv", 100, 2);
        w.Write("config.json", Configs.Small);
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = w.Dir };
        foreach (var a in new[] { Cli.Dll(), "train", "--config", "config.json", "--out", "run" }) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        Thread.Sleep(700);
        Cli.Signal(p, "TERM");
        Assert.IsTrue(p.WaitForExit(60_000));
        Assert.AreEqual(143, p.ExitCode, stderr.Result);
        Assert.IsFalse(Directory.Exists(w["run"]), "nothing was written");
    }

    [TestMethod]
    public void OutputPathsThatAreFilesAreRefusedBeforeAnythingIsRead()
    {
        using var w = new Workspace();
        w.Standard(Configs.Small);
        w.Write("afile", "x");
        var r1 = w.Train("--config", "config.json", "--out", "afile");
        Assert.AreEqual(2, r1.ExitCode, r1.ToString());
        StringAssert.Contains(r1.Stderr, "is a file");
        var r2 = w.Train("--config", "config.json", "--out", "afile/run");
        Assert.AreEqual(2, r2.ExitCode, r2.ToString());
        StringAssert.Contains(r2.Stderr, "is a file, not a folder");
        Assert.AreEqual("x", File.ReadAllText(w["afile"]));
    }

    [TestMethod]
    public void ResumingIntoAnotherFolderCopiesTheHistoryAndLeavesTheSourceAlone()
    {
        using var w = new Workspace();
        w.Standard(Configs.With(Configs.Small, "epochs", "12"), rows: 900);
        var killed = Cli.Run(w.Dir, ["train", "--config", "config.json", "--out", "a"], l => Cli.StepOf(l) >= 22);
        Assert.IsTrue(killed.Stopped);
        StringAssert.Contains(File.ReadAllText(w["a/summary.json"]), "\"running\"", "killed while training");
        var before = Snapshot.Of(w["a"]);
        var fork = w.Train("--out", "b", "--resume", "a");
        Assert.AreEqual(0, fork.ExitCode, fork.ToString());
        Snapshot.AssertSame(before, w["a"], "the source of a fork");
        Assert.AreEqual(0, w.Train("--config", "config.json", "--out", "whole").ExitCode);
        CollectionAssert.AreEqual(KillResumeTests.MetricsWithoutTiming(w["whole/metrics.csv"]), KillResumeTests.MetricsWithoutTiming(w["b/metrics.csv"]));
    }
}
