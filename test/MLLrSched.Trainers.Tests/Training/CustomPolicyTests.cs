using MLLrSched.Backend;
using MLLrSched.Training;
using MLLrSched.Training.Policies;
using static MLLrSched.Trainers.Tests.Training.TrainerFixtures;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>A user's own policies plug into the chain without touching the Trainer: they see every step, may change
/// the gradients, and their state travels in the checkpoint like the built-in policies'.</summary>
[TestClass]
public class CustomPolicyTests
{
    /// <summary>Logs the weight norm after every optimizer step (an observer).</summary>
    private sealed class WeightNormLogger : StepPolicy
    {
        public List<(long Step, double Norm)> Norms { get; } = [];
        public override string Name => "weight_norm";

        public override void AfterStep(TrainingRun run, StepInfo step)
        {
            var norms = run.Backend.ForeachNorm(run.Parameters, 2);
            var total = Math.Sqrt(norms.Sum(n => { var v = n.Item(); n.Dispose(); return v * v; }));
            Norms.Add((run.Step, total));
        }
    }

    /// <summary>Adds Gaussian-like noise of a decaying scale to the gradients (Neelakantan et al.), from its own seeded
    /// generator, whose position it saves.</summary>
    private sealed class GradientNoise(double scale, int seed) : StepPolicy
    {
        private long _draws;
        public override string Name => "gradient_noise";

        public override StepVerdict AfterBackward(TrainingRun run, StepInfo step)
        {
            var sigma = scale / Math.Pow(1 + run.Step, 0.55);
            foreach (var p in run.Parameters)
            {
                using var g = p.Grad;
                if (g == null) continue;
                var noise = new float[g.NumberOfElements];
                for (var i = 0; i < noise.Length; i++) noise[i] = (float)(sigma * Uniform(seed, _draws++));
                using var n = run.Backend.FromArray(noise, g.Shape, g.Device);
                g.Add_(n);
            }
            return StepVerdict.Continue;
        }

        // A counter-based generator, so the noise is a pure function of (seed, draw) and resumable from the count.
        private static double Uniform(int seed, long i)
        {
            var z = (ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)i * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (z >> 11) * (1.0 / (1UL << 53)) * 2 - 1;
        }

        public override StateSection SaveState() => new() { ["draws"] = _draws };
        public override void LoadState(StateSection state) => _draws = state.Get<long>("draws");
    }

    private static TrainerOptions Options(string? checkpoint = null) => new()
    {
        Optimizer = Json("""{"type": "SGD", "lr": 0.1, "momentum": 0.9}"""), BatchSize = 10, Epochs = 3, Seed = 1, LogEveryNSteps = 1,
        Checkpoint = new CheckpointOptions { Path = checkpoint },
    };

    [TestMethod]
    public void AnObserverSeesEveryStepAfterTheUpdate()
    {
        var data = Classification(50);
        using var model = Mlp();
        var logger = new WeightNormLogger();
        using var trainer = new Trainer(model, new ClassificationTask(3), Options(), policies: [logger]);
        var result = trainer.Fit(data);
        Assert.HasCount((int)result.Steps, logger.Norms);
        CollectionAssert.AreEqual(Enumerable.Range(1, (int)result.Steps).Select(i => (long)i).ToArray(), logger.Norms.Select(n => n.Step).ToArray());
        Assert.IsTrue(logger.Norms.Zip(logger.Norms.Skip(1)).All(p => p.First.Norm != p.Second.Norm), "the weights move every step");
        CollectionAssert.Contains(trainer.Policies.Select(p => p.Name).ToArray(), "weight_norm");
        Assert.IsLessThan(trainer.Policies.ToList().FindIndex(p => p.Name == "checkpoint"),
            trainer.Policies.ToList().FindIndex(p => p.Name == "weight_norm"), "user policies run before progress and checkpoints");
    }

    [TestMethod]
    public void AGradientPolicyChangesTheRunDeterministicallyAndResumesFromItsOwnState()
    {
        var data = Classification(50);
        float[][] plain, noisy;
        using (var model = Mlp())
        using (var trainer = new Trainer(model, new ClassificationTask(3), Options()))
        {
            trainer.Fit(data);
            plain = Weights(model);
        }
        using (var model = Mlp())
        using (var trainer = new Trainer(model, new ClassificationTask(3), Options(), policies: [new GradientNoise(0.05, 7)]))
        {
            trainer.Fit(data);
            noisy = Weights(model);
        }
        Assert.IsFalse(plain.Zip(noisy).All(p => p.First.SequenceEqual(p.Second)), "the noise reached the update");

        var dir = Path.Combine(Path.GetTempPath(), "mllrsched-policy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "ck.pt");
        try
        {
            using (var model = Mlp())
            using (var trainer = new Trainer(model, new ClassificationTask(3), Options(path), policies: [new GradientNoise(0.05, 7)]))
            using (var cts = new CancellationTokenSource())
                Assert.ThrowsExactly<OperationCanceledException>(() => trainer.Fit(data, null, new SyncProgress(p => { if (p.Step == 7) cts.Cancel(); }), cts.Token));
            using var resumedModel = Mlp(seed: 42);
            using var resumed = new Trainer(resumedModel, new ClassificationTask(3), Options(path), policies: [new GradientNoise(0.05, 7)]);
            resumed.LoadCheckpoint(path);
            resumed.Fit(data);
            AssertBitEqual(noisy, Weights(resumedModel), "resumed with the policy's saved state");

            using var withoutPolicy = new Trainer(Mlp(), new ClassificationTask(3), Options(path));
            StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => withoutPolicy.LoadCheckpoint(path)).Message, "gradient_noise");
        }
        finally { Directory.Delete(dir, true); }
    }
}
