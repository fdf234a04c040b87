using MLLrSched.Schedules;
using MLLrSched.Data;
using MLLrSched.Torch;
using MLLrSched.Training;
using static MLLrSched.Trainers.Tests.Training.TrainerFixtures;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>
/// Long runs keep a flat memory profile at the trainer level too: with every policy on (AdamW + schedule,
/// accumulation over an uneven last window, clipping, EMA, SWA, early stopping's snapshot, validation, checkpoints),
/// the number of live native tensors is the same at the end of every epoch once the state exists, and disposing the
/// trainer returns it to where it was before the trainer was made.
/// </summary>
[TestClass]
public sealed class TrainerMemoryTests
{
    [TestMethod]
    public void EveryPolicyOnLiveTensorsStayFlatAcrossEpochsAndAreFreedOnDispose()
    {
        var dir = Directory.CreateTempSubdirectory("mllrsched-trainer-memory-");
        try
        {
            var train = Classification(250);     // 250 / 16 → an uneven last micro-batch and a short last window
            var validation = Classification(60, seed: 5);
            using var model = Mlp(dropout: 0.1);
            var before = Tensor.LiveCount;
            var perEpoch = new List<long>();
            var options = new TrainerOptions
            {
                Optimizer = Json("""{"type": "AdamW", "lr": 0.01, "weight_decay": 0.01}"""),
                Scheduler = Json("""{"type": "OneCycleLR", "max_lr": 0.01, "total_steps": "$total_steps"}"""),
                BatchSize = 16,
                GradientAccumulationSteps = 3,
                Epochs = 8,
                Clipping = new ClippingOptions { MaxNorm = 0.5 },
                Ema = new EmaOptions { Decay = 0.9 },
                Swa = new SwaOptions { StartEpoch = 5, SwaLr = 0.005, AnnealEpochs = 1 },
                EarlyStopping = new EarlyStoppingOptions { Monitor = Metric.ValLoss, Patience = 100 },
                Checkpoint = new CheckpointOptions { Path = Path.Combine(dir.FullName, "ckpt.pt"), EveryNSteps = 7 },
                LogEveryNSteps = 1,
            };
            using (var trainer = new Trainer(model, new MLLrSched.Training.ClassificationTask(3), options))
            {
                var result = trainer.Fit(train, validation, new Sync(p =>
                {
                    if (p.Kind == ProgressKind.Epoch) perEpoch.Add(Tensor.LiveCount);
                }));
                Assert.AreEqual(8L, result.Epochs, result.Message);
            }
            Assert.HasCount(8, perEpoch);
            // From epoch 6 on, SWA's average exists too; from then on nothing may accumulate.
            for (var e = 6; e < perEpoch.Count; e++)
                Assert.AreEqual(perEpoch[5], perEpoch[e], $"live tensors at the end of epoch {e} (per epoch: {string.Join(", ", perEpoch)})");
            Assert.AreEqual(before, Tensor.LiveCount, $"after Dispose (per epoch: {string.Join(", ", perEpoch)})");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void ResumingFromACheckpointAndEvaluatingFreeWhatTheyCreate()
    {
        var dir = Directory.CreateTempSubdirectory("mllrsched-trainer-memory-");
        try
        {
            var train = Classification(200);
            var validation = Classification(50, seed: 5);
            var ckpt = Path.Combine(dir.FullName, "ckpt.pt");
            TrainerOptions Options(int epochs) => new()
            {
                Optimizer = Json("""{"type": "Adam", "lr": 0.01, "amsgrad": true}"""),
                Scheduler = Json("""{"type": "ReduceLROnPlateau", "patience": 0}"""),
                ScheduleInterval = StepInterval.Epoch,
                BatchSize = 16,
                GradientAccumulationSteps = 2,
                Epochs = epochs,
                Ema = new EmaOptions { Decay = 0.9 },
                EarlyStopping = new EarlyStoppingOptions { Monitor = Metric.ValLoss, Patience = 100 },
                Checkpoint = new CheckpointOptions { Path = ckpt, EveryNSteps = 5 },
            };
            using var model = Mlp();
            var before = Tensor.LiveCount;
            using (var first = new Trainer(model, new MLLrSched.Training.ClassificationTask(3), Options(2)))
                first.Fit(train, validation);
            Assert.AreEqual(before, Tensor.LiveCount, "after the first run");
            for (var round = 0; round < 3; round++)
            {
                using (var resumed = new Trainer(model, new MLLrSched.Training.ClassificationTask(3), Options(3 + round)))
                {
                    resumed.LoadCheckpoint(ckpt);
                    resumed.Fit(train, validation);
                    resumed.Evaluate(validation, useEma: true);
                    resumed.Evaluate(validation);
                }
                Assert.AreEqual(before, Tensor.LiveCount, $"after resume {round + 1}");
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// After the first epoch neither training nor evaluation allocates batch arrays: a batch of 128 × 784 floats is
    /// 400 KB on the large-object heap, and when every batch (and every evaluation pass) allocated its own, the GC
    /// let a Fashion-MNIST run's RSS climb by ~6 MB/s. Counts managed bytes allocated by this thread, not time.
    /// </summary>
    [TestMethod]
    public void AfterTheFirstEpochTrainingAndEvaluationAllocateNoBatchArrays()
    {
        var train = Classification(128 * 6 + 40, features: 784, classes: 10);   // a short last batch every epoch
        var validation = Classification(700, features: 784, classes: 10, seed: 9);
        using var model = Mlp(inputs: 784, outputs: 10);
        var options = new TrainerOptions
        {
            Optimizer = Json("""{"type": "AdamW", "lr": 0.001}"""),
            BatchSize = 128,
            GradientAccumulationSteps = 2,
            Epochs = 6,
            EvalBatchSize = 256,                                                   // 256, 256 and a short 188
            Ema = new EmaOptions { Decay = 0.9 },
            LogEveryNSteps = 1000,
        };
        using var trainer = new Trainer(model, new MLLrSched.Training.ClassificationTask(10), options);
        long afterFirst = 0, steps = 0;
        var result = trainer.Fit(train, validation, new Sync(p =>
        {
            if (p.Kind != ProgressKind.Epoch) return;
            if (p.Epoch == 0) { afterFirst = GC.GetAllocatedBytesForCurrentThread(); steps = p.Step; }
        }));
        var perStep = (GC.GetAllocatedBytesForCurrentThread() - afterFirst) / (double)(result.Steps - steps);
        // Five epochs of 4 steps, 2 evaluations (model, EMA) of 3 batches each per epoch: one fresh batch per
        // epoch alone would add more than 100 KB per step.
        Assert.IsLessThan(60_000.0, perStep, $"{perStep:F0} managed bytes allocated per optimizer step after the first epoch");
    }

    [TestMethod]
    public void ATaskThatMayRetainBatchesGetsAFreshOneEachTime()
    {
        var train = Classification(40);
        using var model = Mlp();
        var seen = new List<Batch>();
        var task = new CustomTask((m, b, d) =>
        {
            seen.Add(b);                                           // a custom task may keep what it is given
            using var x = m.Backend.FromArray(b.Features, b.Shape, d);
            using var y = m.Forward(x);
            return y.Sum();
        });
        Assert.IsTrue(((ITrainingTask)task).RetainsBatches);
        Assert.IsFalse(((ITrainingTask)new MLLrSched.Training.ClassificationTask(3)).RetainsBatches);
        using var trainer = new Trainer(model, task, new TrainerOptions
        {
            Optimizer = Json("""{"type": "SGD", "lr": 0.01}"""), BatchSize = 8, GradientAccumulationSteps = 2, Epochs = 2, LogEveryNSteps = 1000,
        });
        trainer.Fit(train);
        Assert.HasCount(10, seen);
        Assert.AreEqual(seen.Count, seen.Distinct(ReferenceEqualityComparer.Instance).Count(), "every batch a custom task saw must be its own object");
    }

    private sealed class Sync(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
