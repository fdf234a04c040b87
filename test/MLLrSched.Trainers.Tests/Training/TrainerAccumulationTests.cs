using MLLrSched.Specs;
using MLLrSched.Schedules;
using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Torch.Modules;
using MLLrSched.Training;
using static MLLrSched.Trainers.Tests.Training.TrainerFixtures;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>
/// Gradient accumulation: k micro-batches of size b give the gradient of one batch of the window's real samples —
/// also for the shorter last window of an epoch and uneven micro-batches (normalised by the real sample count, or the
/// total class weight), and clipping applies once, to the accumulated gradient.
/// </summary>
[TestClass]
public class TrainerAccumulationTests
{
    private static RecordingOptimizer Run(InMemoryDataset data, ITrainingTask task, int batch, int accumulation, Sequential model,
        ClippingOptions? clipping = null)
    {
        var opt = new RecordingOptimizer(OptimizerFactory.Create("""{"type": "SGD", "lr": 0.1}""", ((MLLrSched.Backend.IModel)model).NamedParameters()));
        using var trainer = new Trainer(model, task, new TrainerOptions
        {
            BatchSize = batch, GradientAccumulationSteps = accumulation, Epochs = 1, Shuffle = false,
            Clipping = clipping ?? new ClippingOptions(), LogEveryNSteps = 1000,
        }, opt);
        trainer.Fit(data);
        return opt;
    }

    private static void AssertSameGradients(RecordingOptimizer a, RecordingOptimizer b, int steps)
    {
        Assert.HasCount(steps, a.Gradients, "steps of the accumulating run");
        Assert.HasCount(steps, b.Gradients, "steps of the big-batch run");
        for (var s = 0; s < steps; s++) AssertClose(b.Gradients[s], a.Gradients[s], 1e-6, $"gradient of step {s + 1}");
    }

    [TestMethod]
    public void MicroBatchesGiveTheBigBatchGradientIncludingAShortLastWindow()
    {
        // 10 samples: micro-batches of 3 with k = 2 → windows {3, 3} and {3, 1}; big batches of 6 → {6} and {4}.
        var data = Classification(10);
        using var m1 = Mlp();
        using var m2 = Mlp();
        var task = new ClassificationTask(3, labelSmoothing: 0.1);
        AssertSameGradients(Run(data, task, 3, 2, m1), Run(data, task, 6, 1, m2), 2);
    }

    [TestMethod]
    public void ClassWeightsNormaliseByTheWindowsTotalWeight()
    {
        var data = Classification(14);
        using var m1 = Mlp();
        using var m2 = Mlp();
        var task = new ClassificationTask(3, classWeights: [0.5, 2.0, 1.0]);
        // windows of k = 4 micro-batches of 2 → {8} and {6}
        AssertSameGradients(Run(data, task, 2, 4, m1), Run(data, task, 8, 1, m2), 2);
    }

    [TestMethod]
    public void RegressionAccumulatesToTheSameGradient()
    {
        var data = Regression(11);
        using var m1 = Mlp(inputs: 6, outputs: 1);
        using var m2 = Mlp(inputs: 6, outputs: 1);
        var task = new RegressionTask(1, "huber", 0.5);
        AssertSameGradients(Run(data, task, 2, 3, m1), Run(data, task, 6, 1, m2), 2);
    }

    [TestMethod]
    public void ClippingAppliesOnceToTheAccumulatedGradient()
    {
        var data = Classification(16);
        using var m1 = Mlp();
        using var m2 = Mlp();
        var task = new ClassificationTask(3);
        var clip = new ClippingOptions { MaxNorm = 0.05 };
        var a = Run(data, task, 2, 4, m1, clip);
        var b = Run(data, task, 8, 1, m2, clip);
        AssertSameGradients(a, b, 2);
        foreach (var grads in a.Gradients)
        {
            var norm = Math.Sqrt(grads.SelectMany(g => g).Sum(v => (double)v * v));
            Assert.AreEqual(0.05, norm, 1e-5, "the step sees the gradient clipped to max_norm once (not per micro-batch)");
        }
    }

    [TestMethod]
    public void SchedulesEmaAndLoggingCountOptimizerSteps()
    {
        var data = Classification(20);
        using var model = Mlp();
        using var trainer = new Trainer(model, new ClassificationTask(3), new TrainerOptions
        {
            Optimizer = Json("""{"type": "SGD", "lr": 1.0}"""),
            Scheduler = Json("""{"type": "StepLR", "step_size": 1, "gamma": 0.5}"""),
            BatchSize = 2, GradientAccumulationSteps = 2, Epochs = 2, Ema = new EmaOptions { Decay = 0.9 }, LogEveryNSteps = 1,
        });
        var result = trainer.Fit(data);
        Assert.AreEqual(10L, result.Steps, "20 samples / (2 × 2) per step × 2 epochs");
        Assert.AreEqual(10L, trainer.Optimizer.StepCount);
        Assert.AreEqual(10L, trainer.Ema!.UpdateCount);
        Assert.AreEqual(Math.Pow(0.5, 10), trainer.Optimizer.ParamGroups[0].Lr, 1e-15, "StepLR stepped once per optimizer step");
        var steps = result.History.Where(h => h.Kind == ProgressKind.Step).Select(h => h.Step).ToArray();
        CollectionAssert.AreEqual(Enumerable.Range(1, 10).Select(i => (long)i).ToArray(), steps);
    }

    [TestMethod]
    public void PerEpochSchedulingAndPlaceholders()
    {
        var data = Classification(12);
        using var model = Mlp();
        using var trainer = new Trainer(model, new ClassificationTask(3), new TrainerOptions
        {
            Optimizer = Json("""{"type": "SGD", "lr": 0.1}"""),
            Scheduler = Json("""{"type": "LinearLR", "start_factor": 1.0, "end_factor": 0.1, "total_iters": "$epochs"}"""),
            ScheduleInterval = StepInterval.Epoch, BatchSize = 4, Epochs = 3,
        });
        trainer.Fit(data);
        Assert.AreEqual(0.01, trainer.Optimizer.ParamGroups[0].Lr, 1e-12, "3 epoch steps of LinearLR over total_iters = $epochs = 3");
        var spec = SchedulePlaceholders.Resolve(Json("""{"total_steps": "$total_steps", "n": ["$steps_per_epoch"], "name": "x$"}"""), new RunLength(120, 40, 3));
        Assert.AreEqual("""{"total_steps":120,"n":[40],"name":"x$"}""", spec.GetRawText(), "placeholders are values, resolved in place");
        var e = Assert.ThrowsExactly<SpecException>(() => SchedulePlaceholders.Resolve(Json("""{"a": {"b": "$total_step"}}"""), new RunLength(1, 1, 1)));
        StringAssert.Contains(e.Message, "Unknown placeholder \"$total_step\" at 'scheduler.a.b'");
        var zero = Assert.ThrowsExactly<SpecException>(() => SchedulePlaceholders.Resolve(Json("""{"t": "$total_steps"}"""), new RunLength(0, 0, 0)));
        StringAssert.Contains(zero.Message, "must be at least 1");
    }
}
