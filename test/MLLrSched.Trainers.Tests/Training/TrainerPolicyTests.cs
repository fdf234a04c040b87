using MLLrSched.Specs;
using MLLrSched.Schedules;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Trainers.Tests.Support;
using MLLrSched.Training;
using static MLLrSched.Trainers.Tests.Training.TrainerFixtures;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>Non-finite handling, early stopping, metric-driven schedules, SWA and SWALR inside the training loop.</summary>
[TestClass]
public class TrainerPolicyTests
{
    /// <summary>A classification loss that turns NaN on the given calls (1-based).</summary>
    private static CustomTask PoisonedTask(params int[] nanCalls)
    {
        var inner = new ClassificationTask(3);
        var calls = 0;
        return new CustomTask((model, batch, device) =>
        {
            calls++;
            var term = inner.Loss(model, batch, device).Sum;
            if (!nanCalls.Contains(calls)) return term;
            using (term) return term.Mul(double.NaN);
        });
    }

    private static (TrainingResult Result, RecordingOptimizer Opt, float[][] Final) RunPoisoned(NonFinitePolicy policy)
    {
        var data = Classification(40);
        using var model = Mlp();
        var opt = new RecordingOptimizer(OptimizerFactory.Create("""{"type": "Adam", "lr": 0.01}""", ((IModel)model).NamedParameters()));
        using var trainer = new Trainer(model, PoisonedTask(3), new TrainerOptions { BatchSize = 10, Epochs = 1, NonFinite = policy, Shuffle = false }, opt);
        var result = trainer.Fit(data);
        return (result, opt, Weights(model));
    }

    [TestMethod]
    public void NonFiniteStopNamesTheStepAndKeepsThePreviousWeights()
    {
        var (result, opt, final) = RunPoisoned(NonFinitePolicy.Stop);
        Assert.AreEqual(StopReason.NonFinite, result.StopReason);
        Assert.AreEqual(2L, result.Steps);
        StringAssert.Contains(result.Message, "optimizer step 3");
        StringAssert.Contains(result.Message, "loss of micro-batch 1/1 is NaN");
        AssertBitEqual(opt.WeightsAfter[1], final, "weights are those after step 2");
    }

    [TestMethod]
    public void NonFiniteSkipCountsAndGoesOn()
    {
        var (result, opt, _) = RunPoisoned(NonFinitePolicy.Skip);
        Assert.AreEqual(StopReason.Completed, result.StopReason);
        Assert.AreEqual(1L, result.SkippedSteps);
        Assert.AreEqual(3L, result.Steps, "4 batches, one skipped");
        Assert.HasCount(3, opt.Gradients);
        Assert.IsTrue(opt.Gradients.All(s => s.All(g => g.All(float.IsFinite))), "no NaN gradient reached the optimizer");
    }

    [TestMethod]
    public void NonFiniteRaiseThrowsNamingTheStep()
    {
        var e = Assert.ThrowsExactly<NonFiniteGradientException>(() => RunPoisoned(NonFinitePolicy.Raise));
        StringAssert.Contains(e.Message, "optimizer step 3 (epoch 0");
    }

    [TestMethod]
    public void NonFiniteGradientIsCaughtToo()
    {
        var data = Classification(20);
        using var model = Mlp();
        var inner = new ClassificationTask(3);
        // A finite loss whose gradient is infinite: sqrt at 0 of a quantity that is exactly zero.
        var task = new CustomTask((m, b, d) =>
        {
            var t = inner.Loss(m, b, d).Sum;
            using var zero = t.Mul(0.0);
            using var root = zero.Sqrt();
            using (t) return t.Add(root);
        });
        using var trainer = new Trainer(model, task, new TrainerOptions { BatchSize = 10, Epochs = 1 });
        var result = trainer.Fit(data);
        Assert.AreEqual(StopReason.NonFinite, result.StopReason);
        StringAssert.Contains(result.Message, "gradient norm is");
        Assert.AreEqual(0L, result.Steps);
    }

    [TestMethod]
    public void EarlyStoppingStopsAfterPatienceAndRestoresTheBestEpoch()
    {
        var data = Classification(30);
        var scripted = new[] { 1.0, 0.5, 0.7, 0.8, 0.9, 1.0 };
        var evaluations = 0;
        var inner = new ClassificationTask(3);
        var task = new CustomTask((m, b, d) => inner.Loss(m, b, d).Sum,
            evaluate: (m, batches, d) => new EvaluationResult(scripted[evaluations++], null, 0));
        using var model = Mlp();
        var weightsAtEpoch = new Dictionary<long, float[][]>();
        using var trainer = new Trainer(model, task, new TrainerOptions
        {
            Optimizer = Json("""{"type": "SGD", "lr": 0.5}"""), BatchSize = 10, Epochs = 10,
            EarlyStopping = new EarlyStoppingOptions { Monitor = Metric.ValLoss, Patience = 2 },
        });
        var result = trainer.Fit(data, data, new SyncProgress(p =>
        {
            if (p.Kind == ProgressKind.Epoch) weightsAtEpoch[p.Epoch] = Weights(model);
        }));
        Assert.AreEqual(StopReason.EarlyStopped, result.StopReason);
        Assert.AreEqual(4L, result.Epochs, "epochs 0..3: best at 1, then two epochs without improvement");
        Assert.AreEqual(1L, result.RestoredBestEpoch);
        AssertBitEqual(weightsAtEpoch[1], Weights(model), "the best epoch's weights are restored");
        StringAssert.Contains(result.Message, "best 0.5 at epoch 1");
    }

    [TestMethod]
    public void ReduceLrOnPlateauReadsTheValidationLossPerEpoch()
    {
        var data = Classification(20);
        var scripted = new[] { 1.0, 1.0, 1.0, 1.0, 1.0 };
        var k = 0;
        var inner = new ClassificationTask(3);
        var task = new CustomTask((m, b, d) => inner.Loss(m, b, d).Sum, evaluate: (m, bs, d) => new EvaluationResult(scripted[k++], null, 0));
        using var model = Mlp();
        using var trainer = new Trainer(model, task, new TrainerOptions
        {
            Optimizer = Json("""{"type": "SGD", "lr": 0.1}"""),
            Scheduler = Json("""{"type": "ReduceLROnPlateau", "patience": 1, "factor": 0.5}"""),
            ScheduleInterval = StepInterval.Epoch, BatchSize = 10, Epochs = 5,
        });
        trainer.Fit(data, data);
        // PyTorch: the first value is the best; bad epochs 1 (1), 2 (2 > patience → reduce, reset), 3 (1), 4 (2 → reduce).
        Assert.AreEqual(0.025, trainer.Optimizer.ParamGroups[0].Lr, 1e-12);

        using var model2 = Mlp();
        // Refused when the trainer is built, before any data is read.
        var e = Assert.ThrowsExactly<SpecException>(() => new Trainer(model2, task, new TrainerOptions
        {
            Scheduler = Json("""{"type": "ReduceLROnPlateau"}"""), ScheduleInterval = StepInterval.Step, BatchSize = 10,
        }));
        StringAssert.Contains(e.Message, "\"scheduler_interval\": \"epoch\"");
    }

    [TestMethod]
    public void SwaAveragesFromTheStartEpochAndAnnealsTheLr()
    {
        var data = Classification(40);
        using var model = Mlp();
        using var trainer = new Trainer(model, new ClassificationTask(3), new TrainerOptions
        {
            Optimizer = Json("""{"type": "SGD", "lr": 0.1}"""), BatchSize = 10, Epochs = 5,
            Swa = new SwaOptions { StartEpoch = 2, SwaLr = 0.01, AnnealEpochs = 2, AnnealStrategy = "linear" },
        });
        var result = trainer.Fit(data, data);
        Assert.AreEqual(3L, trainer.Swa!.UpdateCount, "epochs 2, 3, 4");
        Assert.AreEqual(0.01, trainer.Optimizer.ParamGroups[0].Lr, 1e-15);
        Assert.IsNotNull(result.SwaValidation);
    }

    [TestMethod]
    public void SwaLrAnnealerMatchesPyTorchSwalr()
    {
        foreach (var c in Golden.Load("training/swalr.json").GetProperty("cases").EnumerateArray())
        {
            var p = Torch.Tensor.Zeros([1]).RequiresGrad_();
            var opt = OptimizerFactory.Create("""{"type": "SGD", "lr": 0.1}""", [new NamedTensor("p", p)]);
            opt.ParamGroups[0].Lr = c.GetProperty("lr_at_first_step").GetDouble();
            var swa = new SwaLrAnnealer(opt, c.GetProperty("swa_lr").GetDouble(), c.GetProperty("anneal_epochs").GetInt32(), c.GetProperty("strategy").GetString()!);
            var expected = c.GetProperty("lrs").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            for (var i = 0; i < expected.Length; i++)
            {
                swa.Step();
                Assert.AreEqual(expected[i], opt.ParamGroups[0].Lr, 1e-12 * expected[i],
                    $"{c.GetProperty("strategy")} anneal {c.GetProperty("anneal_epochs")} step {i + 1}");
            }
            ((IDisposable)opt).Dispose();
            p.Dispose();
        }
    }

    [TestMethod]
    public void CancellationStopsBetweenSteps()
    {
        var data = Classification(100);
        using var model = Mlp();
        using var cts = new CancellationTokenSource();
        using var trainer = new Trainer(model, new ClassificationTask(3), new TrainerOptions { BatchSize = 5, Epochs = 3, LogEveryNSteps = 1 });
        Assert.ThrowsExactly<OperationCanceledException>(() => trainer.Fit(data, null, new SyncProgress(p =>
        {
            if (p.Step == 7) cts.Cancel();
        }), cts.Token));
        Assert.AreEqual(7L, trainer.StepCount);
    }
}

/// <summary>Reports on the calling thread.</summary>
internal sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
