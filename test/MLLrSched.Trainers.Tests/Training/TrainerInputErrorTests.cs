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
        var e = Assert.ThrowsExactly<SpecException>(() => new Trainer(model, new ClassificationTask(3), new TrainerOptions { BatchSize = 0 }));
        StringAssert.Contains(e.Message, "'batch_size' = 0: must be ≥ 1");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => new Trainer(model, new ClassificationTask(3),
            new TrainerOptions { GradientAccumulationSteps = 0 })).Message, "gradient_accumulation_steps");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => new Trainer(model, new ClassificationTask(3),
            new TrainerOptions { Optimizer = Json("""{"type": "AdamW", "lr": -1}""") })).Message, "'lr'");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => new Trainer(model, new ClassificationTask(3),
            new TrainerOptions { Optimizer = Json("""{"type": "AdamW", "learning_rate": 0.1}""") })).Message, "Unknown key 'learning_rate'");
    }
}
