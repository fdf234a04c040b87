using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using MLLrSched.Training;
using static MLLrSched.Tests.PolicySuite.SuiteFixtures;

namespace MLLrSched.Tests.PolicySuite;

/// <summary>
/// The trainer's step policies on the suite's engine: accumulation against one big batch, clipping inside the trainer
/// against the clipping functions (themselves checked against PyTorch by <see cref="ClippingTests"/>), EMA and SWA
/// through the trainer against torch.optim.swa_utils.AveragedModel (tools/golden/training.py), and early stopping with
/// the best epoch's weights restored.
/// </summary>
[TestClass]
public class TrainerPolicyTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>k micro-batches of b samples give the gradient of one batch of k·b (the loss is divided by the window's
    /// sample count before each backward), including the short last window of an epoch: 100 samples in micro-batches of
    /// 8 make 13 batches, windows of 4 + 4 + 4 + 1 batches (32, 32, 32, 4 samples), as batches of 32 do.</summary>
    [TestMethod]
    public void AccumulatedMicroBatchesEqualOneBigBatchIncludingTheShortLastWindow()
    {
        var data = Classification(100);
        (RecordingPolicy Recorder, List<object?> Samples) Run(int batch, int k)
        {
            using var model = Mlp();
            var recorder = new RecordingPolicy(gradients: true, weights: true);
            var samples = new List<object?>();
            var probe = new SampleCounter(samples);
            using var trainer = new Trainer(model, new ClassificationTask(3), new TrainerOptions
            {
                Optimizer = Json("""{"type": "SGD", "lr": 0.1, "momentum": 0.9}"""), BatchSize = batch, GradientAccumulationSteps = k,
                Epochs = 2, Seed = 3,
            }, policies: [recorder, probe]);
            var result = trainer.Fit(data);
            Assert.AreEqual(8L, result.Steps, "4 windows per epoch, 2 epochs");
            return (recorder, samples);
        }
        var (micro, microSamples) = Run(8, 4);
        var (big, bigSamples) = Run(32, 1);
        CollectionAssert.AreEqual(new object[] { 32, 32, 32, 4, 32, 32, 32, 4 }, microSamples, "window sizes: the last one of each epoch is short");
        CollectionAssert.AreEqual(bigSamples, microSamples);
        double worst = 0;
        var where = "";
        for (var s = 0; s < 8; s++)
        {
            var (g, gw) = MaxRel(big.Gradients[s], micro.Gradients[s]);
            var (w, ww) = MaxRel(big.WeightsAfterStep[s], micro.WeightsAfterStep[s]);
            if (g > worst) (worst, where) = (g, $"gradient, step {s + 1}, {gw}");
            if (w > worst) (worst, where) = (w, $"weights after step {s + 1}, {ww}");
        }
        TestContext.WriteLine($"4 × 8 vs 32 on {B.Name}: max relative difference {worst:G3} {where}");
        Assert.IsLessThanOrEqualTo(1e-6, worst, where);
    }

    private sealed class SampleCounter(List<object?> samples) : Training.Policies.StepPolicy
    {
        public override string Name => "suite_samples";
        public override Training.Policies.StepVerdict AfterBackward(Training.Policies.TrainingRun run, Training.Policies.StepInfo step)
        {
            samples.Add(step.Samples);
            return Training.Policies.StepVerdict.Continue;
        }
    }

    /// <summary>Clipping inside the trainer is exactly the clipping functions applied in the documented order (adaptive,
    /// value, norm) to the accumulated gradient: a run with lr 0 (the weights stay put, so every step is comparable)
    /// records the gradients the optimizer gets with and without clipping.</summary>
    [TestMethod]
    [DataRow("norm 2", 0.05, 2.0, null, null)]
    [DataRow("norm inf", 0.01, double.PositiveInfinity, null, null)]
    [DataRow("value", null, 2.0, 0.003, null)]
    [DataRow("agc", null, 2.0, null, 0.02)]
    [DataRow("agc + value + norm", 0.03, 2.0, 0.004, 0.05)]
    public void ClippingInTheTrainerIsTheClippingFunctionsInOrder(string what, double? maxNorm, double normType, double? clipValue, double? agc)
    {
        var data = Classification(48);
        List<float[][]> Run(ClippingOptions clipping)
        {
            using var model = Mlp();
            var recorder = new RecordingPolicy(gradients: true);
            using var trainer = new Trainer(model, new ClassificationTask(3), new TrainerOptions
            {
                Optimizer = Json("""{"type": "SGD", "lr": 0.0}"""), BatchSize = 8, GradientAccumulationSteps = 2, Epochs = 1, Seed = 4,
                Clipping = clipping,
            }, policies: [recorder]);
            trainer.Fit(data);
            return recorder.Gradients;
        }
        var clipped = Run(new ClippingOptions { MaxNorm = maxNorm, NormType = normType, ClipValue = clipValue, AgcClipFactor = agc });
        var raw = Run(new ClippingOptions());
        using var model = Mlp();
        var weights = model.NamedParameters().Select(p => p.Tensor).ToArray();
        var changed = 0;
        for (var s = 0; s < raw.Count; s++)
        {
            using var scope = B.NewScope();
            var ps = weights.Select(w => w.Clone().Detach()).ToArray();
            for (var i = 0; i < ps.Length; i++)
            {
                ps[i].RequiresGrad = true;
                ps[i].Grad = B.FromArray(raw[s][i], ps[i].Shape, Device.Cpu);
            }
            if (agc is { } factor) GradientClipping.AdaptiveClipGrad(ps, factor, 1e-3);
            if (clipValue is { } v) GradientClipping.ClipGradValue(ps, v);
            if (maxNorm is { } n) GradientClipping.ClipGradNorm(ps, n, normType);
            var expected = ps.Select(p => { using var g = p.Grad!; return g.ToFloatArray(); }).ToArray();
            AssertBitEqual(expected, clipped[s], $"{what}: step {s + 1}");
            if (MaxRel(raw[s], clipped[s]).Rel > 1e-3) changed++;
        }
        Assert.IsGreaterThan(0, changed, $"{what}: the clipping changed some gradients");
    }

    private static IModel AveragingModel(System.Text.Json.JsonElement c)
    {
        // The script's model: Linear(3, 4), BatchNorm1d(4), ReLU, Linear(4, 2).
        var model = Build(new SequentialSpec([new LinearSpec(3, 4), new BatchNormSpec(4, false), new ActivationSpec("relu"), new LinearSpec(4, 2)]));
        SuiteGolden.SetWeights(model, c.GetProperty("initial"));
        return model;
    }

    /// <summary>EMA (decay 0.9, buffers kept) and SWA (from epoch 0, no SWALR) run as the trainer's policies while an
    /// optimizer replays the script's weight deltas, one step per epoch: after each step the average equals
    /// AveragedModel's (the first update copies, as PyTorch's does).</summary>
    [TestMethod]
    [DataRow("ema")]
    [DataRow("swa")]
    public void AveragesThroughTheTrainerMatchAveragedModel(string kind)
    {
        var c = SuiteGolden.Load("training/averaging.json").GetProperty("cases").EnumerateArray().First(x => x.GetProperty("kind").GetString() == kind);
        using var model = AveragingModel(c);
        var deltas = c.GetProperty("deltas").EnumerateArray().Select(step => step.EnumerateArray().Select(SuiteGolden.Floats).ToArray()).ToArray();
        var expected = c.GetProperty("averaged").EnumerateArray().ToArray();
        var optimizer = new ReplayOptimizer(model.NamedParameters().Select(p => p.Tensor).ToArray(), deltas);
        Trainer? trainer = null;
        var recorder = new RecordingPolicy
        {
            // The EMA updates after every step, SWA at every epoch end; the recorder runs after both.
            AfterStepProbe = kind == "ema" ? _ => Values(trainer!.Ema!.Parameters) : null,
            EpochProbe = kind == "swa" ? _ => Values(trainer!.Swa!.Parameters) : null,
        };
        using (trainer = new Trainer(model, new RegressionTask(2), new TrainerOptions
        {
            BatchSize = 8, Epochs = deltas.Length, Shuffle = false,
            Ema = kind == "ema" ? new EmaOptions { Decay = c.GetProperty("decay").GetDouble(), Buffers = BufferAveraging.Keep } : null,
            Swa = kind == "swa" ? new SwaOptions { StartEpoch = 0 } : null,
        }, optimizer, policies: [recorder]))
        {
            var result = trainer.Fit(Regression(8, features: 3, width: 2));
            Assert.AreEqual((long)deltas.Length, result.Steps);
            var averages = (kind == "ema" ? recorder.Probes : recorder.EpochProbes).Cast<float[][]>().ToArray();
            Assert.HasCount(deltas.Length, averages);
            var worst = new Deviation();
            for (var s = 0; s < deltas.Length; s++)
            {
                var e = expected[s].EnumerateArray().ToArray();
                for (var i = 0; i < e.Length; i++) worst.Add($"{kind} after step {s + 1}, parameter {i}", averages[s][i], SuiteGolden.Floats(e[i]));
            }
            TestContext.WriteLine($"{kind} through the trainer on {B.Name} vs {SuiteGolden.Set.Name}: max deviation {worst.Rel:G3} at {worst.Where} ({worst.Count} values)");
            // Elementwise float ops in PyTorch's order: equal up to the rounding of the last operation.
            Assert.IsLessThanOrEqualTo(1e-6, worst.Rel, worst.Where);
            Assert.AreEqual((long)deltas.Length, kind == "ema" ? trainer.Ema!.UpdateCount : trainer.Swa!.UpdateCount);
        }
    }

    /// <summary>Early stopping on val_loss: the validation targets are half the training targets, so the validation loss
    /// falls while the model grows towards them and rises once it passes them. Training stops <c>patience</c> epochs
    /// after the best epoch, and the model ends with that epoch's weights, bit for bit.</summary>
    [TestMethod]
    public void EarlyStoppingStopsAfterPatienceAndRestoresTheBestWeights()
    {
        const int patience = 3;
        var train = Regression(64);
        var validation = Regression(64, scale: 0.5f);
        using var model = Mlp(6, 16, 1);
        var recorder = new RecordingPolicy();
        using var trainer = new Trainer(model, new RegressionTask(), new TrainerOptions
        {
            Optimizer = Json("""{"type": "SGD", "lr": 0.02}"""), BatchSize = 16, Epochs = 80, Seed = 2,
            EarlyStopping = new EarlyStoppingOptions { Monitor = Metric.ValLoss, Patience = patience, RestoreBestWeights = true },
        }, policies: [recorder]);
        var result = trainer.Fit(train, validation);

        var losses = recorder.Epochs.Select(e => e.ValLoss!.Value).ToArray();
        var best = Array.IndexOf(losses, losses.Min());
        TestContext.WriteLine($"{B.Name}: val_loss by epoch {string.Join(", ", losses.Select(l => l.ToString("G4")))}; best epoch {best}; {result.Message}");
        Assert.AreEqual(StopReason.EarlyStopped, result.StopReason, result.Message);
        Assert.IsGreaterThan(0, best, "the validation loss fell first");
        Assert.AreEqual(best + patience + 1, losses.Length, "stopped patience epochs after the best");
        Assert.AreEqual((long)best, result.RestoredBestEpoch);
        AssertBitEqual(recorder.Epochs[best].Weights, Weights(model), "the best epoch's weights");
        Assert.AreEqual(losses[best], trainer.Evaluate(validation).Loss, 1e-12, "evaluating the restored model gives the best val_loss");
    }
}
