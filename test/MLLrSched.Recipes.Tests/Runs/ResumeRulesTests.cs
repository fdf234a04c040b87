using MLLrSched.Specs;

namespace MLLrSched.Recipes.Tests.Runs;

/// <summary>Config comparison for resumes, and strict JSON.</summary>
[TestClass]
public class ResumeRulesTests
{
    private const string Base = """
    {
      "seed": 1,
      "data": {"type": "csv", "train": "train.csv", "validation": "split"},
      "model": {"type": "mlp", "hidden_sizes": [16]},
      "optimizer": {"type": "AdamW", "lr": 0.01},
      "scheduler": {"type": "linear", "num_warmup_steps": 10, "num_training_steps": 1000},
      "epochs": 3, "batch_size": 16
    }
    """;

    private static IReadOnlyList<ResumeChange> Compare(string before, string after, string dirA = "/runs", string? dirB = null) =>
        ResumeRules.Compare(RunConfig.Parse(before, dirA), RunConfig.Parse(after, dirB ?? dirA));

    [TestMethod]
    public void LayoutCommentsDefaultsAndEquivalentPathsAreNoChange()
    {
        var same = Base.Replace("\"seed\": 1,", "// the seed\n  \"seed\": 1, \"shuffle\": true, \"gradient_accumulation_steps\": 1,")
                       .Replace("\"train.csv\"", "\"./sub/../train.csv\"").Replace("0.01", "1e-2");
        Assert.AreEqual(0, Compare(Base, same).Count, string.Join("\n", Compare(Base, same)));
        // The same file named from another folder.
        Assert.AreEqual(0, Compare(Base, Base.Replace("\"train.csv\"", "\"../runs/train.csv\""), "/runs", "/other").Count);
    }

    [TestMethod]
    public void SettingsThatDefineTheRunAreRefusedTheOthersApplied()
    {
        var changed = Base.Replace("\"lr\": 0.01", "\"lr\": 0.02").Replace("[16]", "[16], \"dropout\": 0.5").Replace("\"epochs\": 3", "\"epochs\": 5, \"log_every_n_steps\": 7, \"threads\": 2");
        var changes = Compare(Base, changed).ToDictionary(c => c.Key);
        Assert.IsFalse(changes["optimizer.lr"].Allowed);
        StringAssert.Contains(changes["optimizer.lr"].Reason, "lr included");
        Assert.IsFalse(changes["model.dropout"].Allowed);
        Assert.IsTrue(changes["epochs"].Allowed);
        Assert.IsTrue(changes["log_every_n_steps"].Allowed);
        Assert.IsTrue(changes["threads"].Allowed);
        Assert.AreEqual("optimizer.lr: 0.01 → 0.02 (" + changes["optimizer.lr"].Reason + ")", changes["optimizer.lr"].ToString());
        foreach (var key in new[] { "seed", "batch_size", "gradient_accumulation_steps", "shuffle", "drop_last", "data.train_subset", "scheduler.type",
                     "engine", "ema.decay", "early_stopping.patience", "clip_grad_norm.max_norm", "model.activation", "task.label_smoothing" })
            Assert.IsFalse(ResumeRules.RuleFor(key).Allowed, key);
        foreach (var key in new[] { "epochs", "max_steps", "log_every_n_steps", "checkpoint_every_n_steps", "device", "threads", "eval_batch_size" })
            Assert.IsTrue(ResumeRules.RuleFor(key).Allowed, key);
    }

    [TestMethod]
    public void ExtendingIsRefusedWhenTheScheduleHorizonComesFromTheRunLength()
    {
        var placeholder = Base.Replace("\"num_training_steps\": 1000", "\"num_training_steps\": \"$total_steps\"");
        var c = Compare(placeholder, placeholder.Replace("\"epochs\": 3", "\"epochs\": 4")).Single();
        Assert.AreEqual("epochs", c.Key);
        Assert.IsFalse(c.Allowed);
        StringAssert.Contains(c.Reason, "$total_steps");
        Assert.IsTrue(Compare(Base, Base.Replace("\"epochs\": 3", "\"epochs\": 4")).Single().Allowed, "a fixed horizon may be extended");
    }

    [TestMethod]
    public void ChangedDataContentsAreRefused()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mllrsched-rules-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "train.csv"), "a,label\n1,0\n2,1\n");
            var config = RunConfig.Parse(Base, dir);
            var record = ResumeRules.ReadRecord(ResumeRules.Record(config, Path.Combine(dir, "run.json")));
            Assert.AreEqual(Base, record.Text);
            Assert.AreEqual(0, ResumeRules.CompareData(record.DataFiles, config).Count);
            File.AppendAllText(Path.Combine(dir, "train.csv"), "3,1\n");
            var change = ResumeRules.CompareData(record.DataFiles, config).Single();
            Assert.IsFalse(change.Allowed);
            StringAssert.Contains(change.Key, "train.csv");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void TheDocsShowTheRuleTable()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root!.FullName, "MLLrSched.sln"))) root = root.Parent;
        var docs = File.ReadAllText(Path.Combine(root.FullName, "docs", "checkpoints.md"));
        StringAssert.Contains(docs, ResumeRules.Markdown(), "docs/checkpoints.md's table of resume rules is ResumeRules.Markdown()");
    }

    [TestMethod]
    public void DuplicateKeysAreRefusedWithBothLines()
    {
        var e = Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse("{\n \"epochs\": 3,\n \"seed\": 1,\n \"epochs\": 4\n}"));
        StringAssert.Contains(e.Message, "'epochs' appears twice (lines 2 and 4)");
        e = Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse("""{"optimizer": {"type": "SGD", "lr": 0.1, "param_groups": [{"params": "no_decay", "lr": 1, "lr": 2}]}}"""));
        StringAssert.Contains(e.Message, "'optimizer.param_groups[].lr' appears twice");
        StrictJson.CheckDuplicateKeys("""[{"a": 1}, {"a": 2}, {"b": {"a": 3}, "a": 4}]""", "x");   // same key in different objects: fine
        var invalid = Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse("{\n  \"epochs\": 3\n  \"seed\": 1\n}"));
        StringAssert.Contains(invalid.Message, "line 3, column 3");
    }

    [TestMethod]
    public void ValidationNeedsAndShapesAreCheckedWhenTheConfigIsRead()
    {
        var e = Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse(Base.Replace("\"epochs\": 3", "\"epochs\": 3, \"early_stopping\": {\"patience\": 2}")
            .Replace("\"validation\": \"split\"", "\"validation\": \"none\"")));
        StringAssert.Contains(e.Message, "no validation metric");
        e = Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse(Base.Replace("\"validation\": \"split\"", "\"validation\": \"test\"")));
        StringAssert.Contains(e.Message, "needs a test set");
        e = Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse(Base.Replace("\"validation\": \"split\"", "\"ignore_columns\": \"id\"")));
        StringAssert.Contains(e.Message, "expected an array of column names");
        e = Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse("[1, 2]"));
        StringAssert.Contains(e.Message, "must hold a JSON object");
    }
}
