using System.Text.Json;
using System.Xml.Linq;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Specs;
using MLLrSched.Torch;
using MLLrSched.Torch.Modules;
using MLLrSched.Trainers.Tests.Support;
using MLLrSched.Training;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>The LR range test: sweep, smoothing and stop against pytorch-lr-finder / fastai (tools/golden/lrfinder.py),
/// full restore of the model, determinism, suggestion, plot and input checks.</summary>
[TestClass]
public class LrFinderTests
{
    private static JsonElement GoldenFile => Golden.Load("training/lrfinder.json");

    // ------------------------------------------------------------------ helpers

    /// <summary>A small regression set: y = x·w + noise, file order.</summary>
    private static InMemoryDataset Regression(int n = 64, int features = 3)
    {
        var rng = new Random(7);
        var x = new float[n * features];
        var y = new float[n];
        for (var i = 0; i < n; i++)
        {
            double t = 0;
            for (var j = 0; j < features; j++) { x[i * features + j] = (float)(rng.NextDouble() * 2 - 1); t += (j + 1) * x[i * features + j]; }
            y[i] = (float)(t + 0.1 * (rng.NextDouble() - 0.5));
        }
        return InMemoryDataset.ForRegression(x, new long[] { features }, y, 1, "toy");
    }

    /// <summary>A task whose loss of call k is losses[k] exactly (float32 values), independent of the weights, so the
    /// whole loop can be checked against fixed loss sequences.</summary>
    private static CustomTask Replay(IReadOnlyList<double> losses)
    {
        var k = 0;
        return new CustomTask((model, batch, device) =>
        {
            var p = model.NamedParameters()[0].Tensor;
            using var zero = p.Mul(0);
            using var sum = zero.Sum();
            return sum.Add(losses[k++]);
        }, normalizer: _ => 1);
    }

    private static float[] Floats(ITensor t) => t.ToFloatArray();

    private static void AssertBitEqual(float[] expected, float[] actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what + ": length");
        for (var i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    private static void AssertClose(double expected, double actual, double rtol, string what)
    {
        if (!(Math.Abs(expected - actual) <= rtol * Math.Abs(expected)))
            Assert.Fail($"{what}: expected {expected:R}, got {actual:R} (rel diff {Math.Abs(expected - actual) / Math.Abs(expected):E2} > {rtol:E0})");
    }

    /// <summary>Records each param group's lr at every step, around a real optimizer.</summary>
    private sealed class RecordingOptimizer(IOptimizer inner) : IOptimizer, IDisposable
    {
        public List<double[]> Lrs { get; } = new();
        public bool Disposed { get; private set; }
        public IReadOnlyList<ParamGroup> ParamGroups => inner.ParamGroups;
        public long StepCount => inner.StepCount;
        public void Step() => throw new AssertFailedException("the finder steps with a closure");
        public double Step(Func<double> closure)
        {
            Lrs.Add(inner.ParamGroups.Select(g => g.Lr).ToArray());
            return inner.Step(closure);
        }
        public void ZeroGrad(bool setToNone = true) => inner.ZeroGrad(setToNone);
        public void Dispose()
        {
            Disposed = true;
            (inner as IDisposable)?.Dispose();
        }
    }

    // ------------------------------------------------------------------ learning-rate sequence

    [TestMethod]
    public void ExponentialSequenceIsGeometricFromStartToEnd()
    {
        foreach (var (start, end, n) in new[] { (1e-7, 10.0, 100), (1e-5, 1.0, 7), (2e-4, 3e-4, 2), (1e-6, 1e3, 1000) })
        {
            var o = new LrFinderOptions { StartLr = start, EndLr = end, NumSteps = n };
            Assert.AreEqual(start, o.LearningRateAt(0), "step 0 is start_lr exactly");
            AssertClose(end, o.LearningRateAt(n - 1), 4e-16, "last step is end_lr");
            var factor = Math.Pow(end / start, 1.0 / (n - 1));
            var logStep = Math.Log(end / start) / (n - 1);
            for (var i = 1; i < n; i++)
            {
                AssertClose(factor, o.LearningRateAt(i) / o.LearningRateAt(i - 1), 1e-12, $"ratio at step {i}");
                AssertClose(start * Math.Exp(i * logStep), o.LearningRateAt(i), 1e-12, $"lr at step {i}");
            }
        }
    }

    [TestMethod]
    public void LinearSequenceHasEqualSteps()
    {
        var o = new LrFinderOptions { StartLr = 1e-3, EndLr = 0.1, NumSteps = 13, StepMode = LrStepMode.Linear };
        Assert.AreEqual(1e-3, o.LearningRateAt(0));
        AssertClose(0.1, o.LearningRateAt(12), 1e-15, "last");
        for (var i = 1; i < 13; i++) AssertClose((0.1 - 1e-3) / 12, o.LearningRateAt(i) - o.LearningRateAt(i - 1), 1e-12, $"step {i}");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => o.LearningRateAt(13));
    }

    [TestMethod]
    public void SequenceMatchesPytorchLrFinderExactly()
    {
        var cases = GoldenFile.GetProperty("lr_sequences").EnumerateArray().ToArray();
        Assert.AreEqual(6, cases.Length);
        foreach (var c in cases)
        {
            var o = new LrFinderOptions
            {
                StartLr = c.GetProperty("start_lr").GetDouble(),
                EndLr = c.GetProperty("end_lr").GetDouble(),
                NumSteps = c.GetProperty("num_steps").GetInt32(),
                StepMode = c.GetProperty("mode").GetString() == "exp" ? LrStepMode.Exponential : LrStepMode.Linear,
            };
            var expected = c.GetProperty("lrs").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            Assert.AreEqual(o.NumSteps, expected.Length);
            for (var i = 0; i < expected.Length; i++)
                Assert.AreEqual(expected[i], o.LearningRateAt(i), $"{o.StepMode} {o.StartLr}→{o.EndLr} in {o.NumSteps}: step {i} (bit for bit)");
        }
    }

    [TestMethod]
    public void EveryGroupRunsAtTheSweptLrTimesItsRatio()
    {
        var golden = GoldenFile.GetProperty("lr_sequences").EnumerateArray().First(c => c.GetProperty("mode").GetString() == "exp" && c.GetProperty("num_steps").GetInt32() == 100);
        var expected = golden.GetProperty("lrs").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Torch.Torch.ManualSeed(1);
        using var model = new Linear(3, 1);
        RecordingOptimizer? rec = null;
        // Weight at the top-level lr, bias at a tenth of it; the test's own lr values replace both.
        const string spec = """{"type": "SGD", "lr": 0.5, "param_groups": [{"params": ["bias"], "lr": 0.05}]}""";
        var finder = new LrFinder(new LrFinderOptions { BatchSize = 8 });
        var result = finder.Run(model, Replay(Enumerable.Repeat(1.0, 100).ToArray()), Regression(), p => rec = new RecordingOptimizer(OptimizerFactory.Create(spec, p)));
        Assert.AreEqual(LrFinderStopReason.Completed, result.StopReason);
        CollectionAssert.AreEqual(expected, result.LearningRates.ToArray(), "recorded lrs are pytorch-lr-finder's sequence");
        CollectionAssert.AreEqual(new[] { 1.0, 0.05 / 0.5 }, result.GroupLrRatios.ToArray());
        Assert.AreEqual(100, rec!.Lrs.Count);
        for (var i = 0; i < 100; i++)
        {
            Assert.AreEqual(expected[i], rec.Lrs[i][0], $"step {i}: default group");
            Assert.AreEqual(expected[i] * (0.05 / 0.5), rec.Lrs[i][1], $"step {i}: bias group keeps its ratio");
        }
        Assert.IsTrue(rec.Disposed, "the finder disposes the optimizer it built");
    }

    // ------------------------------------------------------------------ smoothing and divergence

    private static LrFinderOptions SmoothingOptions(JsonElement c) => c.GetProperty("kind").GetString() == "fastai"
        ? new LrFinderOptions { SmoothingBeta = c.GetProperty("beta").GetDouble(), BiasCorrection = true, DivergeThreshold = c.GetProperty("factor").GetDouble() }
        : new LrFinderOptions { SmoothingBeta = 1 - c.GetProperty("smooth_f").GetDouble(), BiasCorrection = false, DivergeThreshold = c.GetProperty("diverge_th").GetDouble() };

    [TestMethod]
    public void SmootherMatchesFastaiAndPytorchLrFinder()
    {
        foreach (var c in GoldenFile.GetProperty("smoothing").EnumerateArray())
        {
            var what = $"{c.GetProperty("name").GetString()}/{c.GetProperty("kind").GetString()}";
            var o = SmoothingOptions(c);
            var losses = c.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var expected = c.GetProperty("smoothed").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var s = new LrFinderSmoother(o.SmoothingBeta, o.BiasCorrection);
            var got = new List<double>();
            foreach (var l in losses)
            {
                got.Add(s.Add(l));
                if (s.HasDiverged(o.DivergeThreshold)) break;
            }
            Assert.AreEqual(expected.Length, got.Count, $"{what}: steps recorded before the stop");
            // Double arithmetic in a different order (torch.lerp vs β·avg + (1−β)·loss; 1−(1−f) vs f): rounding only.
            for (var i = 0; i < expected.Length; i++) AssertClose(expected[i], got[i], 1e-12, $"{what}: smoothed[{i}]");
        }
    }

    [TestMethod]
    public void RunRecordsTheGoldenSmoothedCurveAndStopsAtTheSameStep()
    {
        foreach (var c in GoldenFile.GetProperty("smoothing").EnumerateArray())
        {
            var what = $"{c.GetProperty("name").GetString()}/{c.GetProperty("kind").GetString()}";
            var losses = c.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var expected = c.GetProperty("smoothed").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            using var model = new Linear(3, 1);
            var finder = new LrFinder(SmoothingOptions(c) with { NumSteps = losses.Length, StartLr = 1e-6, EndLr = 1, BatchSize = 8 });
            var r = finder.Run(model, Replay(losses), Regression(), """{"type": "SGD", "lr": 0.1}""");
            Assert.AreEqual(expected.Length, r.Steps, $"{what}: steps");
            Assert.AreEqual(expected.Length < losses.Length ? LrFinderStopReason.Diverged : LrFinderStopReason.Completed, r.StopReason, what);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.AreEqual(losses[i], r.Losses[i], $"{what}: raw loss {i}");
                AssertClose(expected[i], r.SmoothedLosses[i], 1e-12, $"{what}: smoothed[{i}]");
            }
        }
    }

    [TestMethod]
    public void DivergenceStopsTheTestEarlyOnARealModel()
    {
        Torch.Torch.ManualSeed(3);
        using var model = new Sequential(new Linear(3, 16), new ReLU(), new Linear(16, 1));
        var finder = new LrFinder(new LrFinderOptions { StartLr = 1e-4, EndLr = 1e4, NumSteps = 80, BatchSize = 16 });
        var r = finder.Run(model, new RegressionTask(), Regression(256), """{"type": "SGD", "lr": 0.1, "momentum": 0.9}""");
        Assert.AreEqual(LrFinderStopReason.Diverged, r.StopReason, "SGD at lr 1e4 must blow up");
        Assert.IsTrue(r.Steps < 80, $"stopped early, after {r.Steps} steps");
        var best = double.PositiveInfinity;
        for (var i = 0; i < r.Steps; i++)
        {
            best = Math.Min(best, r.SmoothedLosses[i]);
            var over = r.SmoothedLosses[i] > 4 * best;
            Assert.AreEqual(i == r.Steps - 1, over, $"step {i}: only the last recorded step exceeds 4 × best");
        }
        Assert.AreEqual(best, r.BestSmoothedLoss);
    }

    [TestMethod]
    public void NonFiniteLossStopsAtOnceAndIsRecorded()
    {
        using var model = new Linear(3, 1);
        var losses = new[] { 1.0, 0.9, 0.8, double.NaN, 0.5, 0.4 };
        var r = new LrFinder(new LrFinderOptions { NumSteps = 6, BatchSize = 8 }).Run(model, Replay(losses), Regression(), """{"type": "SGD", "lr": 0.1}""");
        Assert.AreEqual(LrFinderStopReason.NonFiniteLoss, r.StopReason);
        Assert.AreEqual(4, r.Steps);
        Assert.IsTrue(double.IsNaN(r.Losses[3]));
        StringAssert.Contains(r.ToCsv(), "3,", "the NaN step is in the CSV");
        StringAssert.Contains(r.ToCsv(), ",nan,nan");
    }

    [TestMethod]
    public void StopOnDivergenceFalseRunsEveryStep()
    {
        var c = GoldenFile.GetProperty("smoothing").EnumerateArray().First(x => x.GetProperty("name").GetString() == "early");
        var losses = c.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        using var model = new Linear(3, 1);
        var r = new LrFinder(new LrFinderOptions { NumSteps = losses.Length, StopOnDivergence = false, BatchSize = 8 })
            .Run(model, Replay(losses), Regression(), """{"type": "SGD", "lr": 0.1}""");
        Assert.AreEqual(LrFinderStopReason.Completed, r.StopReason);
        Assert.AreEqual(losses.Length, r.Steps);
    }

    // ------------------------------------------------------------------ state

    private static Sequential BatchNormMlp() => new(
        new Linear(3, 16), new BatchNorm1d(16), new ReLU(), new Dropout(0.2),
        new Linear(16, 8), new BatchNorm1d(8), new ReLU(), new Dropout(0.2), new Linear(8, 1));

    [TestMethod]
    public void WeightsBuffersGradientsModeAndRngAreRestoredBitForBit()
    {
        Torch.Torch.ManualSeed(11);
        using var model = BatchNormMlp();
        var data = Regression(128);
        var task = new RegressionTask();
        // Give the model gradients, BatchNorm statistics and a step count, then leave it in eval mode.
        using (TensorScope.Open())
        {
            var term = task.Loss(model, data.GetBatch(Enumerable.Range(0, 32).ToArray()), Device.Cpu);
            term.Sum.Backward();
        }
        model.Eval();
        IModel m = model;
        var before = m.NamedParameters().Select(p => Floats(p.Tensor)).ToArray();
        var buffersBefore = m.NamedBuffers().Select(b => b.Tensor.ToDoubleArray()).ToArray();
        var gradsBefore = m.NamedParameters().Select(p => { using var g = p.Tensor.Grad; return g == null ? null : Floats(g); }).ToArray();
        Assert.IsTrue(gradsBefore.All(g => g != null));
        var rngBefore = NativeBackend.Instance.GetRngState();

        var changedDuringTest = false;
        var finder = new LrFinder(new LrFinderOptions { NumSteps = 60, EndLr = 100, BatchSize = 16 })
        {
            Progress = new SyncProgress(p =>
            {
                if (p.Step == 5) changedDuringTest = !Floats(m.NamedParameters()[0].Tensor).SequenceEqual(before[0]);
            }),
        };
        var r = finder.Run(model, task, data, """{"type": "AdamW", "lr": 0.001}""");
        Assert.IsTrue(changedDuringTest, "the test trains the model itself (so restoring matters)");
        Assert.IsTrue(r.Steps >= 6);

        var after = m.NamedParameters();
        for (var i = 0; i < after.Count; i++)
        {
            AssertBitEqual(before[i], Floats(after[i].Tensor), after[i].Name);
            using var g = after[i].Tensor.Grad;
            Assert.IsNotNull(g, $"{after[i].Name}: gradient restored");
            AssertBitEqual(gradsBefore[i]!, Floats(g), after[i].Name + ".grad");
        }
        var buffersAfter = m.NamedBuffers();
        Assert.AreEqual(6, buffersAfter.Count, "two BatchNorms: running_mean, running_var, num_batches_tracked");
        for (var i = 0; i < buffersAfter.Count; i++)
            CollectionAssert.AreEqual(buffersBefore[i], buffersAfter[i].Tensor.ToDoubleArray(), buffersAfter[i].Name);
        Assert.IsFalse(model.IsTraining, "eval mode restored");
        CollectionAssert.AreEqual(rngBefore, NativeBackend.Instance.GetRngState(), "random generator restored");
    }

    [TestMethod]
    public void ModelWithoutGradientsGetsNoneBack()
    {
        using var model = BatchNormMlp();
        new LrFinder(new LrFinderOptions { NumSteps = 10, BatchSize = 16 }).Run(model, new RegressionTask(), Regression(), """{"type": "SGD", "lr": 0.01}""");
        foreach (var p in ((IModel)model).NamedParameters())
        {
            using var g = p.Tensor.Grad;
            Assert.IsNull(g, p.Name);
        }
        Assert.IsTrue(model.IsTraining);
    }

    [TestMethod]
    public void RestoresEvenWhenTheLossThrows()
    {
        Torch.Torch.ManualSeed(5);
        using var model = new Linear(3, 1);
        var before = Floats(model.Parameters()[0]);
        var calls = 0;
        var task = new CustomTask((m, b, d) =>
        {
            if (++calls == 4) throw new InvalidOperationException("boom");
            return new RegressionTask().Loss(m, b, d).Sum;
        });
        Assert.ThrowsExactly<InvalidOperationException>(() =>
            new LrFinder(new LrFinderOptions { NumSteps = 10, EndLr = 100, BatchSize = 8 }).Run(model, task, Regression(), """{"type": "SGD", "lr": 1}"""));
        AssertBitEqual(before, Floats(model.Parameters()[0]), "weight after a failed test");
    }

    [TestMethod]
    public void CallersOptimizerAndLoaderAreUntouched()
    {
        Torch.Torch.ManualSeed(2);
        using var model = new Linear(3, 1);
        var data = Regression();
        var task = new RegressionTask();
        using var mine = (Optimizer)OptimizerFactory.Create("""{"type": "Adam", "lr": 0.01}""", ((IModel)model).NamedParameters());
        mine.Step(() =>
        {
            using var s = TensorScope.Open();
            var t = task.Loss(model, data.GetBatch(new[] { 0, 1, 2, 3 }), Device.Cpu);
            t.Sum.Backward();
            return t.Sum.Item();
        });
        var avgBefore = Floats(mine.GetState(model.Parameters()[0])!.Tensor("exp_avg"));
        var loader = new DataLoader(data, 8, shuffle: true, seed: 9) { Position = new DataPosition(2, 3) };
        new LrFinder(new LrFinderOptions { NumSteps = 20, EndLr = 10 }).Run(model, task, loader, p => OptimizerFactory.Create("""{"type": "Adam", "lr": 0.01}""", p));
        Assert.AreEqual(0.01, mine.ParamGroups[0].Lr);
        Assert.AreEqual(1L, mine.StepCount);
        AssertBitEqual(avgBefore, Floats(mine.GetState(model.Parameters()[0])!.Tensor("exp_avg")), "caller's exp_avg");
        Assert.AreEqual(new DataPosition(2, 3), loader.Position);
    }

    [TestMethod]
    public void SameSeedGivesTheSameCurveAndNoTensorLeaks()
    {
        Torch.Torch.ManualSeed(4);
        using var model = BatchNormMlp();   // dropout and shuffling both draw random numbers
        var data = Regression(200);
        var finder = new LrFinder(new LrFinderOptions { NumSteps = 40, EndLr = 1, BatchSize = 16, Seed = 123 });
        const string spec = """{"type": "AdamW", "lr": 0.001}""";
        var a = finder.Run(model, new RegressionTask(), data, spec);
        var live = Tensor.LiveCount;
        var b = finder.Run(model, new RegressionTask(), data, spec);
        Assert.AreEqual(live, Tensor.LiveCount, "a run releases every tensor it creates");
        CollectionAssert.AreEqual(a.Losses.ToArray(), b.Losses.ToArray(), "same seed, same curve");
        CollectionAssert.AreEqual(a.SmoothedLosses.ToArray(), b.SmoothedLosses.ToArray());
        var c = new LrFinder(finder.Options with { Seed = 124 }).Run(model, new RegressionTask(), data, spec);
        CollectionAssert.AreNotEqual(a.Losses.ToArray(), c.Losses.ToArray(), "another seed, another curve");
    }

    [TestMethod]
    public void AccumulationAveragesTheWindowAndAdvancesTheData()
    {
        // Loss sum of a batch = sum of its targets (weights play no part), so each step's loss is known from the data.
        var data = Regression(40);
        var task = new CustomTask((m, b, d) =>
        {
            var p = m.NamedParameters()[0].Tensor;
            using var zero = p.Mul(0);
            using var s = zero.Sum();
            return s.Add(b.Targets!.Sum(t => (double)t));
        });
        using var model = new Linear(3, 1);
        var r = new LrFinder(new LrFinderOptions { NumSteps = 5, BatchSize = 6, GradientAccumulationSteps = 2, Shuffle = false, StopOnDivergence = false })
            .Run(model, task, data, """{"type": "SGD", "lr": 0.1}""");
        var y = data.Targets.ToArray();
        // Batches of 6 in file order; 40 samples = 6 full batches + one of 4 per epoch; a step takes two batches.
        var starts = new List<(int Start, int Count)>();
        for (var epoch = 0; epoch < 2; epoch++)
            for (var s = 0; s < 40; s += 6) starts.Add((s, Math.Min(6, 40 - s)));
        for (var step = 0; step < 5; step++)
        {
            var (s1, n1) = starts[2 * step];
            var (s2, n2) = starts[2 * step + 1];
            var sum = y.Skip(s1).Take(n1).Sum(v => (double)(float)v) + y.Skip(s2).Take(n2).Sum(v => (double)v);
            Assert.AreEqual((float)(sum / (n1 + n2)), (float)r.Losses[step], 1e-6f, $"step {step}");
        }
    }

    // ------------------------------------------------------------------ suggestion

    [TestMethod]
    public void SuggestionTakesTheSteepestFallBeforeTheMinimum()
    {
        var o = new LrFinderOptions { NumSteps = 61, StartLr = 1e-6, EndLr = 1 };   // step 30 is lr 1e-3
        var lrs = Enumerable.Range(0, 61).Select(o.LearningRateAt).ToArray();
        // A tanh drop centred on lr = 1e-3, minimum at ~1e-1, steeply rising after.
        var loss = lrs.Select(lr => 2 - Math.Tanh(2 * (Math.Log10(lr) + 3)) + (lr > 0.1 ? 40 * (lr - 0.1) : 0)).ToArray();
        var s = LrFinderSuggestion.Compute(lrs, loss, 6, 5);
        Assert.AreEqual(LrSuggestionMethod.SteepestSlope, s.Method);
        const int centre = 30;
        Assert.AreEqual(centre, s.SteepestIndex, $"steepest at lr {s.SteepestLr}");
        Assert.AreEqual(lrs[centre], s.Lr);
        // Central difference over ±0.1 decade of −tanh(2x): −2·tanh(0.2)/0.2 per decade.
        Assert.AreEqual(-2 * Math.Tanh(0.2) / 0.2, s.SteepestSlope!.Value, 1e-9);
        Assert.AreEqual(loss.Min(), s.MinLoss);
        Assert.AreEqual(lrs[s.MinLossIndex] / 10, s.MinLossLrOverTen);

        // The steep part inside the skipped start is ignored.
        var skipped = LrFinderSuggestion.Compute(lrs, loss, centre + 3, 5);
        Assert.IsTrue(skipped.SteepestIndex >= centre + 3);
    }

    [TestMethod]
    public void SuggestionFallsBackToMinimumLossOverTen()
    {
        var lrs = new[] { 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0 };
        var rising = new[] { 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6 };
        var s = LrFinderSuggestion.Compute(lrs, rising, 1, 1);
        Assert.AreEqual(LrSuggestionMethod.MinimumLossOverTen, s.Method);
        Assert.IsNull(s.SteepestLr);
        Assert.AreEqual(1e-6, s.Lr, 1e-21);
        Assert.AreEqual(0, s.MinLossIndex);
        // Too few points left after skipping: fallback as well.
        var curve = new[] { 3.0, 2.0, 1.0, 0.5, 0.4, 5.0, 9.0 };
        var few = LrFinderSuggestion.Compute(lrs, curve, 3, 3);
        Assert.AreEqual(LrSuggestionMethod.SteepestSlope, few.Method, "index 3 is the only candidate left");
        Assert.AreEqual(3, few.SteepestIndex);
        Assert.AreEqual((0.4 - 1.0) / 2, few.SteepestSlope!.Value, 1e-15, "central difference per decade");
        var none = LrFinderSuggestion.Compute(lrs, curve, 4, 3);
        Assert.AreEqual(LrSuggestionMethod.MinimumLossOverTen, none.Method, "no candidate left");
        Assert.AreEqual(4, none.MinLossIndex);
        Assert.AreEqual(1e-2, none.Lr, 1e-17);
        var nan = LrFinderSuggestion.Compute(new[] { 1e-3 }, new[] { double.NaN }, 0, 0);
        Assert.AreEqual(LrSuggestionMethod.None, nan.Method);
        Assert.IsTrue(double.IsNaN(nan.Lr));
    }

    // ------------------------------------------------------------------ output

    [TestMethod]
    public void CsvHasEveryStep()
    {
        var c = GoldenFile.GetProperty("smoothing").EnumerateArray().First(x => x.GetProperty("name").GetString() == "blow_up" && x.GetProperty("kind").GetString() == "fastai");
        var losses = c.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        using var model = new Linear(3, 1);
        var r = new LrFinder(new LrFinderOptions { BatchSize = 8 }).Run(model, Replay(losses), Regression(), """{"type": "SGD", "lr": 0.1}""");
        var lines = r.ToCsv().TrimEnd('\n').Split('\n');
        Assert.AreEqual("step,lr,loss,smoothed_loss", lines[0]);
        Assert.AreEqual(r.Steps + 1, lines.Length);
        var cells = lines[5].Split(',');
        Assert.AreEqual(r.LearningRates[4], double.Parse(cells[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.AreEqual(r.SmoothedLosses[4], double.Parse(cells[3], System.Globalization.CultureInfo.InvariantCulture));
    }

    // ------------------------------------------------------------------ bad input

    [TestMethod]
    public void InvalidOptionsAreNamed()
    {
        void Bad(LrFinderOptions o, string message) =>
            StringAssert.Contains(Assert.Throws<ArgumentException>(() => new LrFinder(o)).Message, message);
        Bad(new LrFinderOptions { StartLr = 1, EndLr = 1 }, "end_lr must be finite and > start_lr (1), got 1");
        Bad(new LrFinderOptions { StartLr = 0.1, EndLr = 0.01 }, "end_lr must be finite and > start_lr");
        Bad(new LrFinderOptions { StartLr = 0 }, "start_lr must be a finite number > 0, got 0");
        Bad(new LrFinderOptions { NumSteps = 1 }, "num_steps must be ≥ 2, got 1");
        Bad(new LrFinderOptions { SmoothingBeta = 1 }, "smoothing_beta must be in [0, 1), got 1");
        Bad(new LrFinderOptions { DivergeThreshold = 1 }, "diverge_threshold must be > 1, got 1");
        Bad(new LrFinderOptions { BatchSize = 0 }, "batch_size must be ≥ 1, got 0");
        Bad(new LrFinderOptions { GradientAccumulationSteps = 0 }, "gradient_accumulation_steps must be ≥ 1, got 0");
        Bad(new LrFinderOptions { SkipStart = -1 }, "skip_start must be ≥ 0");
        Bad(new LrFinderOptions { SkipEnd = -2 }, "skip_end must be ≥ 0, got -2");
    }

    [TestMethod]
    public void JsonOptionsUseTheDocumentedNames()
    {
        var o = LrFinderOptions.FromJson("""
            {"start_lr": 1e-6, "end_lr": 1, "num_steps": 50, "step_mode": "linear", "smoothing_beta": 0.9, "bias_correction": false,
             "diverge_threshold": 5, "stop_on_divergence": false, "batch_size": 32, "gradient_accumulation_steps": 2,
             "shuffle": false, "seed": 7, "skip_start": 3, "skip_end": 2}
            """);
        Assert.AreEqual(new LrFinderOptions
        {
            StartLr = 1e-6, EndLr = 1, NumSteps = 50, StepMode = LrStepMode.Linear, SmoothingBeta = 0.9, BiasCorrection = false,
            DivergeThreshold = 5, StopOnDivergence = false, BatchSize = 32, GradientAccumulationSteps = 2, Shuffle = false, Seed = 7,
            SkipStart = 3, SkipEnd = 2,
        }, o);
        Assert.AreEqual(14, LrFinderOptions.JsonNames.Count);
        Assert.AreEqual(new LrFinderOptions(), LrFinderOptions.FromJson("{}"));
        Assert.AreEqual(10, new LrFinderOptions().EffectiveSkipStart);
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => LrFinderOptions.FromJson("""{"num_step": 10}""")).Message, "did you mean 'num_steps'?");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => LrFinderOptions.FromJson("""{"step_mode": "cos"}""")).Message, "'exp', 'linear'");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => LrFinderOptions.FromJson("""{"start_lr": 1, "end_lr": 0.5}""")).Message, "end_lr must be finite and > start_lr");
    }

    [TestMethod]
    public void BadModelDataOrOptimizerIsExplained()
    {
        using var model = new Linear(5, 1);
        var finder = new LrFinder(new LrFinderOptions { NumSteps = 5, BatchSize = 8 });
        // Model and data disagree.
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => finder.Run(model, new RegressionTask(), Regression(features: 3), """{"type": "SGD", "lr": 0.1}""")).Message,
            "the model cannot take samples of shape [3]");
        // Adafactor steering its own step size.
        using var ok = new Linear(3, 1);
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => finder.Run(ok, new RegressionTask(), Regression(), """{"type": "Adafactor"}""")).Message,
            "relative_step to false and give an lr");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => finder.Run(ok, new RegressionTask(), Regression(), """{"type": "AdamW", "lr": 0.1""")).Message,
            "not valid JSON");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => finder.Run(ok, new RegressionTask(), Regression(), """{"type": "Adamm"}""")).Message, "Adam");
        // No data at all, or no batch.
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => InMemoryDataset.ForRegression(Array.Empty<float>(), new long[] { 3 }, Array.Empty<float>())).Message, "empty");
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => finder.Run(ok, new RegressionTask(), new DataLoader(Regression(4), 8, dropLast: true),
            p => OptimizerFactory.Create("""{"type": "SGD", "lr": 0.1}""", p))).Message, "give no batch");
        // A custom optimizer whose group has no lr.
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => finder.Run(ok, new RegressionTask(), Regression(),
            p => new NoLrOptimizer(new ParamGroup(p.Select(x => x.Tensor))))).Message, "Param group 0 of NoLrOptimizer has no 'lr'");
        // Zero reference lr.
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => finder.Run(ok, new RegressionTask(), Regression(), """{"type": "SGD", "lr": 0}""")).Message,
            "must be > 0");
    }

    private sealed class NoLrOptimizer(ParamGroup group) : IOptimizer
    {
        public IReadOnlyList<ParamGroup> ParamGroups { get; } = new[] { group };
        public long StepCount => 0;
        public void Step() { }
        public double Step(Func<double> closure) => closure();
        public void ZeroGrad(bool setToNone = true) { }
    }

    private sealed class SyncProgress(Action<LrFinderPoint> action) : IProgress<LrFinderPoint>
    {
        public void Report(LrFinderPoint value) => action(value);
    }
}
