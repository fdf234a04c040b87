using MLLrSched.Specs;
using MLLrSched.Backend;
using MLLrSched.Torch;
using MLLrSched.Torch.Modules;
using MLLrSched.Trainers.Tests.Support;
using MLLrSched.Training;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>EMA and SWA against torch.optim.swa_utils.AveragedModel, and timm's decay warmup (tools/golden/training.py).</summary>
[TestClass]
public class WeightAveragingTests
{
    private static Sequential Model() => new(new Linear(3, 4), new BatchNorm1d(4), new ReLU(), new Linear(4, 2));

    private static void Run(string kind, bool fused)
    {
        var c = Golden.Load("training/averaging.json").GetProperty("cases").EnumerateArray().First(x => x.GetProperty("kind").GetString() == kind);
        using var model = Model();
        var init = c.GetProperty("initial");
        var sd = init.EnumerateObject().ToDictionary(p => p.Name, p => p.Name.EndsWith("num_batches_tracked")
            ? Tensor.Scalar(0, DType.Int64) : Golden.Float(p.Value));
        model.LoadStateDict(sd);
        sd.DisposeAll();
        var wasFused = FusedKernels.Enabled;
        FusedKernels.Enabled = fused;
        try
        {
            using WeightAverager avg = kind == "ema" ? new ModelEma(model, new EmaOptions { Decay = 0.9, Buffers = BufferAveraging.Keep }) : new SwaAverager(model);
            var deltas = c.GetProperty("deltas").EnumerateArray().ToArray();
            var expected = c.GetProperty("averaged").EnumerateArray().ToArray();
            for (var step = 0; step < deltas.Length; step++)
            {
                using (var scope = TensorScope.Open())
                using (Torch.Torch.NoGrad())
                {
                    var ds = deltas[step].EnumerateArray().ToArray();
                    var ps = model.Parameters();
                    for (var i = 0; i < ps.Count; i++) ps[i].Add_(Golden.Float(ds[i]));
                }
                if (avg is ModelEma ema) Assert.IsTrue(ema.Update(model, step + 1));
                else ((SwaAverager)avg).Update(model);
                var exp = expected[step].EnumerateArray().ToArray();
                for (var i = 0; i < exp.Length; i++)
                    // EMA does PyTorch's exact float ops (fused or not), so the match is to rounding of the last step.
                    Golden.AssertClose(exp[i], (Tensor)avg.Parameters[i].Tensor, $"{kind} step {step + 1} param {i}", 1e-6, 1e-7);
            }
            Assert.AreEqual(deltas.Length, avg.UpdateCount);
        }
        finally { FusedKernels.Enabled = wasFused; }
    }

    [TestMethod] public void EmaMatchesAveragedModelFused() => Run("ema", fused: true);
    [TestMethod] public void EmaMatchesAveragedModelTensorOps() => Run("ema", fused: false);
    [TestMethod] public void SwaMatchesAveragedModelDefaultAverage() => Run("swa", fused: false);

    [TestMethod]
    public void DecayWarmupMatchesTimmModelEmaV3()
    {
        using var model = new Linear(2, 2);
        foreach (var c in Golden.Load("training/averaging.json").GetProperty("cases").EnumerateArray().Where(x => x.GetProperty("kind").GetString() == "decay_schedule"))
        {
            using var ema = new ModelEma(model, new EmaOptions
            {
                Decay = c.GetProperty("decay").GetDouble(), MinDecay = c.GetProperty("min_decay").GetDouble(),
                StartStep = c.GetProperty("start_step").GetInt64(), UseWarmup = c.GetProperty("use_warmup").GetBoolean(),
                WarmupGamma = c.GetProperty("gamma").GetDouble(), WarmupPower = c.GetProperty("power").GetDouble(),
            });
            var values = c.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            for (var s = 0; s < values.Length; s++)
                Assert.AreEqual(values[s], ema.DecayAt(s), 1e-15, $"decay at step {s}");
        }
    }

    [TestMethod]
    public void SwapIntoEvaluatesAverageThenRestoresModel()
    {
        using var scope = TensorScope.Open();
        using var model = new Linear(3, 2);
        using var ema = new ModelEma(model, new EmaOptions { Decay = 0.5 });
        var original = model.Weight.ToArray<float>();
        using (Torch.Torch.NoGrad()) model.Weight.Add_(1.0);
        ema.Update(model, 1); // copy
        using (Torch.Torch.NoGrad()) model.Weight.Add_(1.0);
        ema.Update(model, 2); // 0.5·(w+1) + 0.5·(w+2)
        var live = model.Weight.ToArray<float>();
        using (ema.SwapInto(model))
        {
            var swapped = model.Weight.ToArray<float>();
            for (var i = 0; i < swapped.Length; i++) Assert.AreEqual(original[i] + 1.5f, swapped[i], 1e-6f);
        }
        CollectionAssert.AreEqual(live, model.Weight.ToArray<float>(), "the model's own weights are restored");
    }

    [TestMethod]
    public void UpdateEveryAndBufferModes()
    {
        using var scope = TensorScope.Open();
        using var model = new Sequential(new Linear(2, 2), new BatchNorm1d(2));
        using var ema = new ModelEma(model, new EmaOptions { Decay = 0.5, UpdateEvery = 2, Buffers = BufferAveraging.Copy });
        Assert.IsFalse(ema.Update(model, 1));
        Assert.IsTrue(ema.Update(model, 2));
        model.Forward(Tensor.Randn([4, 2]));   // training forward changes running stats and the counter
        ema.Update(model, 4);
        var live = model.NamedBuffersTyped().ToDictionary(b => b.Name, b => b.Tensor);
        foreach (var b in ema.Buffers) Assert.IsTrue(((Tensor)b.Tensor).Equal(live[b.Name]), $"{b.Name} copied");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => new ModelEma(model, new EmaOptions { Decay = 1.5 })).Message, "'decay' = 1.5: must be ≤ 1");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => new ModelEma(model, new EmaOptions { UpdateEvery = 0 })).Message, "'update_every' = 0: must be ≥ 1");
    }
}
