using MLLrSched.Data;
using MLLrSched.Specs;
using MLLrSched.Training;
using static MLLrSched.Trainers.Tests.Training.TrainerFixtures;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>Bad input gets a clear error naming the setting, column or file — and nothing is trained on it.</summary>
[TestClass]
public class TrainerInputErrorTests
{
    [TestMethod]
    public void FeatureCountNotMatchingTheModelIsNamed()
    {
        using var model = Mlp(inputs: 5);
        using var trainer = new Trainer(model, new ClassificationTask(3));
        var e = Assert.ThrowsExactly<ArgumentException>(() => trainer.Fit(Classification(20, features: 8)));
        StringAssert.Contains(e.Message, "the model cannot take samples of shape [8] (8 features)");
        Assert.AreEqual(0L, trainer.StepCount);
    }

    [TestMethod]
    public void MoreClassesThanTheModelHeadIsNamed()
    {
        using var model = Mlp(outputs: 3);
        using var trainer = new Trainer(model, new ClassificationTask(3));
        var e = Assert.ThrowsExactly<ArgumentException>(() => trainer.Fit(Classification(30, classes: 5)));
        StringAssert.Contains(e.Message, "the data has 5 classes but the task (and model head) has 3");
        using var m2 = Mlp(outputs: 4);
        using var t2 = new Trainer(m2, new ClassificationTask(3));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => t2.Fit(Classification(30))).Message, "outputs shape [1, 4]");
    }

    [TestMethod]
    public void RegressionDataForAClassifierIsNamed()
    {
        using var model = Mlp(inputs: 6);
        using var trainer = new Trainer(model, new ClassificationTask(3));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => trainer.Fit(Regression(10))).Message, "needs class labels");
    }

    [TestMethod]
    public void InvalidTrainerOptionsNameTheSetting()
    {
        using var model = Mlp();
        var e = Assert.ThrowsExactly<ArgumentException>(() => new Trainer(model, new ClassificationTask(3), new TrainerOptions { BatchSize = 0 }));
        StringAssert.Contains(e.Message, "'batch_size' = 0: must be ≥ 1");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new Trainer(model, new ClassificationTask(3),
            new TrainerOptions { GradientAccumulationSteps = 0 })).Message, "gradient_accumulation_steps");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => new Trainer(model, new ClassificationTask(3),
            new TrainerOptions { Optimizer = Json("""{"type": "AdamW", "lr": -1}""") })).Message, "'lr'");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => new Trainer(model, new ClassificationTask(3),
            new TrainerOptions { Optimizer = Json("""{"type": "AdamW", "learning_rate": 0.1}""") })).Message, "Unknown key 'learning_rate'");
    }

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
        StringAssert.Contains(v.Message, "'ignore' is not one of: 'stop', 'skip', 'raise'");
        var d = Assert.ThrowsExactly<ArgumentException>(() => RunConfig.Parse("""{"device": "tpu"}"""));
        StringAssert.Contains(d.Message, "Valid: 'cpu', 'cuda', 'cuda:N'");
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
        using var a = cfg.BuildModel(data);
        using var b = cfg.BuildModel(data);
        AssertBitEqual(Weights(a), Weights(b), "same seed, same initial weights");
        var task = (ClassificationTask)cfg.BuildTask(data);
        Assert.AreEqual(0.1, task.LabelSmoothing);
        var cnn = RunConfig.Parse("""{"model": {"type": "cnn"}}""");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => cnn.BuildModel(data)).Message, "needs image samples [C, H, W]");
    }
}
