using MLLrSched.Data;
using MLLrSched.Recipes;
using MLLrSched.Specs;
using MLLrSched.Torch;
using MLLrSched.Training;
using static MLLrSched.Recipes.Tests.Fixtures;

namespace MLLrSched.Recipes.Tests.Runs;

/// <summary>Run configs: unknown keys, missing files, seeded model building.</summary>
[TestClass]
public class RunConfigTests
{
    [TestMethod]
    public void RunConfigRejectsUnknownKeysListingValidOnes()
    {
        var e = Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse("""{"epochs": 2, "batchsize": 32}"""));
        StringAssert.Contains(e.Message, "'batchsize' (did you mean 'batch_size'?)");
        StringAssert.Contains(e.Message, "Valid keys:");
        StringAssert.Contains(e.Message, "gradient_accumulation_steps");
        var m = Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse("""{"model": {"type": "mlp", "hiden_sizes": [8]}}"""));
        StringAssert.Contains(m.Message, "'hiden_sizes' (did you mean 'hidden_sizes'?)");
        var v = Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse("""{"nonfinite": "ignore"}"""));
        StringAssert.Contains(v.Message, "Invalid 'nonfinite' in config: expected one of \"stop\", \"skip\", \"raise\", got \"ignore\"");
        var d = Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse("""{"device": "tpu"}"""));
        StringAssert.Contains(d.Message, "Valid: 'cpu', 'cuda', 'cuda:N'");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => RunConfig.Parse("""{"device": "gpu"}""")).Message, "PyTorch calls it 'cuda'");
        Assert.AreEqual("cuda", RunConfig.Parse("""{"device": "cuda"}""").Trainer.Device.ToString(), "'cuda' stays 'cuda' (the current device), as in PyTorch");
    }

    [TestMethod]
    public void MissingDataFilesAreNamed()
    {
        var cfg = RunConfig.Parse("""{"data": {"type": "csv", "train": "no/such/train.csv"}}""", "/tmp");
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => cfg.LoadData());
        StringAssert.Contains(e.Message, "/tmp/no/such/train.csv");
        StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => RunConfig.Load("/tmp/none.json")).Message, "/tmp/none.json");
        var fm = RunConfig.Parse("""{"data": {"directory": "/nowhere"}}""");
        StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => fm.LoadData()).Message, "'/nowhere'");
    }

    [TestMethod]
    public void RunConfigBuildsTheSameModelForTheSameSeed()
    {
        var cfg = RunConfig.Parse("""{"seed": 4, "model": {"type": "mlp", "hidden_sizes": [12], "dropout": 0.1}, "task": {"label_smoothing": 0.1}}""");
        var data = Classification(10);
        using var a = cfg.BuildModel(data, NativeBackend.Instance);
        using var b = cfg.BuildModel(data, NativeBackend.Instance);
        AssertBitEqual(Weights(a), Weights(b), "same seed, same initial weights");
        var task = (ClassificationTask)cfg.BuildTask(data);
        Assert.AreEqual(0.1, task.LabelSmoothing);
        var cnn = RunConfig.Parse("""{"model": {"type": "cnn"}}""");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => cnn.BuildModel(data, NativeBackend.Instance)).Message, "needs image samples [C, H, W]");
    }
}
