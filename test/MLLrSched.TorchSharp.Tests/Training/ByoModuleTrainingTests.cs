using MLLrSched.Backend;
using MLLrSched.Tests.PolicySuite;
using MLLrSched.Training;
using MLLrSched.TorchSharpBackend;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLLrSched.TorchSharp.Tests.Training;

/// <summary>A user's own TorchSharp module — written with TorchSharp's APIs, not built from a ModuleSpec — trained by the
/// Trainer through <see cref="TorchSharpModel"/> with AdamW (no decay on biases and norms), linear warmup + cosine decay,
/// gradient accumulation, clipping and an EMA of the weights.</summary>
[TestClass]
public sealed class ByoModuleTrainingTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>inp → [LayerNorm → Linear → GELU → Linear] + skip → ReLU → head: a pre-norm residual block.</summary>
    private sealed class ResidualNet : nn.Module<Tensor, Tensor>
    {
        private readonly Linear inp, fc1, fc2, head;
        private readonly LayerNorm norm;

        public ResidualNet(int inputs, int width, int outputs) : base(nameof(ResidualNet))
        {
            inp = nn.Linear(inputs, width);
            norm = nn.LayerNorm(width);
            fc1 = nn.Linear(width, 2 * width);
            fc2 = nn.Linear(2 * width, width);
            head = nn.Linear(width, outputs);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var h = inp.forward(x);
            var r = fc2.forward(nn.functional.gelu(fc1.forward(norm.forward(h))));
            return head.forward(nn.functional.relu(h + r)).MoveToOuterDisposeScope();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                foreach (var m in new nn.Module[] { inp, norm, fc1, fc2, head }) m.Dispose();
            base.Dispose(disposing);
        }
    }

    [TestMethod]
    public void AResidualBlockTrainsWithAdamWWarmupCosineAccumulationAndEma()
    {
        var backend = SuiteEngine.Backend;
        var train = SuiteFixtures.Classification(480, features: 8, classes: 3, seed: 11);
        var validation = SuiteFixtures.Classification(120, features: 8, classes: 3, seed: 12);
        backend.ManualSeed(0);
        var recorder = new RecordingPolicy();
        TrainingResult result;
        using (var model = new TorchSharpModel(new ResidualNet(8, 32, 3), ownsModule: true))
        {
            // TorchSharp's count of live tensor objects (process-wide: other tests' garbage is finalized first); a module's
            // parameters stay counted until the module is collected.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var liveBefore = Tensor.TotalCount;
            CollectionAssert.AreEqual(new[] { "inp.weight", "inp.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "head.weight", "head.bias", "norm.weight", "norm.bias" },
                model.NamedParameters().Select(p => p.Name).OrderBy(n => n.StartsWith("norm", StringComparison.Ordinal)).ToArray(),
                "the module's own names (registered fields) reach the optimizer");
            var initial = SuiteFixtures.Weights(model);
            var trainer = new Trainer(model, new ClassificationTask(3), new TrainerOptions
            {
                Optimizer = SuiteFixtures.Json("""{"type": "AdamW", "lr": 0.01, "weight_decay": 0.05, "param_groups": [{"params": "no_decay", "weight_decay": 0.0}]}"""),
                Scheduler = SuiteFixtures.Json("""{"type": "cosine", "num_warmup_steps": 10, "num_training_steps": "$total_steps"}"""),
                BatchSize = 16, GradientAccumulationSteps = 2, Epochs = 12, Seed = 1,
                Clipping = new ClippingOptions { MaxNorm = 1.0 },
                Ema = new EmaOptions { Decay = 0.99, UseWarmup = true },
            }, policies: [recorder]);
            result = trainer.Fit(train, validation);

            Assert.AreEqual(StopReason.Completed, result.StopReason, result.Message);
            Assert.AreEqual(12L * 15, result.Steps, "480 / 16 = 30 micro-batches = 15 windows per epoch");
            var groups = trainer.Optimizer.ParamGroups;
            Assert.HasCount(2, groups);
            CollectionAssert.AreEquivalent(new[] { "inp.bias", "fc1.bias", "fc2.bias", "head.bias", "norm.weight", "norm.bias" }, groups[1].Names.ToArray(),
                "no_decay: the biases and the LayerNorm's parameters");
            // Warmup to the peak at step 10, then cosine to 0 at the last step.
            var lr = recorder.Lr.Select(l => l[0]).ToArray();
            Assert.AreEqual(0.0, lr[0], "warmup starts at 0");
            Assert.AreEqual(0.01, lr[10], 1e-15, "peak after 10 warmup steps");
            Assert.IsTrue(lr.Skip(10).Zip(lr.Skip(11)).All(p => p.Second <= p.First), "cosine decay is monotone");
            Assert.IsLessThan(1e-5, lr[^1], "decayed to ~0 at the end");
            Assert.IsTrue(lr.Zip(recorder.Lr.Select(l => l[1])).All(p => p.First == p.Second), "both groups follow the schedule");

            var first = result.History.First(h => h.Kind == ProgressKind.Epoch);
            TestContext.WriteLine($"{recorder.Lr.Count} steps; epoch 1 train loss {first.Loss:G4}, val {first.ValLoss:G4}; final val loss {result.Validation?.Loss:G4}, " +
                                  $"accuracy {result.Validation?.Accuracy:P1}; EMA val loss {result.EmaValidation?.Loss:G4}, accuracy {result.EmaValidation?.Accuracy:P1}");
            Assert.IsGreaterThan(0.85, result.Validation!.Value.Accuracy!.Value, "the residual network learns the rule");
            Assert.IsLessThan(first.ValLoss!.Value / 2, result.Validation!.Value.Loss, "the validation loss at least halves");
            Assert.IsNotNull(result.EmaValidation, "the EMA weights were evaluated");
            Assert.IsGreaterThan(0.8, result.EmaValidation.Value.Accuracy!.Value, "the EMA weights are good weights too");
            var final = SuiteFixtures.Weights(model);
            for (var i = 0; i < final.Length; i++) Assert.IsGreaterThan(1e-4, SuiteFixtures.MaxRel(new[] { initial[i] }, new[] { final[i] }).Rel, $"tensor {i} was trained");
            var ema = trainer.Ema!.Parameters;
            Assert.IsGreaterThan(0.0, SuiteFixtures.MaxRel(SuiteFixtures.Values(model.NamedParameters()), SuiteFixtures.Values(ema)).Rel, "the EMA is its own copy");
            trainer.Dispose();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Assert.AreEqual(liveBefore, Tensor.TotalCount, "the run left no tensor alive besides the module's own (optimizer state, EMA, gradients' handles, temporaries)");
        }
    }
}
