using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Torch;
using MLLrSched.TorchSharpBackend;
using TorchSharp;

namespace MLLrSched.TorchSharp.Tests;

/// <summary>The seam over TorchSharp: ops agree with the native backend, ownership and errors behave as documented.</summary>
[TestClass]
public sealed class TorchSharpTensorTests
{
    private static readonly IBackend Native = NativeBackend.Instance;
    private static readonly IBackend Sharp = TorchSharpBackend.TorchSharpBackend.Instance;

    [TestMethod]
    public void ElementwiseAndReductions_AgreeWithNativeBackend()
    {
        float[] x = { -2.5f, -1f, 0f, 0.5f, 3f, 7.25f };
        float[] y = { 1f, 2f, -3f, 4f, 0.25f, -0.5f };
        var shape = new long[] { 2, 3 };
        foreach (var (name, op) in new (string, Func<ITensor, ITensor, ITensor>)[]
        {
            ("add alpha", (a, b) => a.Add(b, 0.3)),
            ("sub alpha", (a, b) => a.Sub(b, 1.7)),
            ("addcdiv_", (a, b) => a.Clone().AddCDiv_(b, b.Abs().Add(1), 0.25)),
            ("lerp_", (a, b) => a.Clone().Lerp_(b, 0.1)),
            ("clamp", (a, b) => a.Clamp(-1, 2)),
            ("maximum_", (a, b) => a.Clone().Maximum_(b)),
            ("where", (a, b) => a.Where(a.Gt(0), b)),
            ("norm inf", (a, b) => a.Norm(double.PositiveInfinity)),
            ("norm 2 dim", (a, b) => a.Norm(2, new long[] { 1 })),
            ("sum keepdim", (a, b) => a.Sum(new long[] { 0 }, keepDim: true)),
            ("rsqrt abs", (a, b) => a.Abs().Add(1).Rsqrt()),
            ("matmul", (a, b) => a.MatMul(b.Reshape(3, 2))),
        })
        {
            using var na = Native.FromArray(x, shape, Device.Cpu);
            using var nb = Native.FromArray(y, shape, Device.Cpu);
            using var sa = Sharp.FromArray(x, shape, Device.Cpu);
            using var sb = Sharp.FromArray(y, shape, Device.Cpu);
            using var nr = op(na, nb);
            using var sr = op(sa, sb);
            CollectionAssert.AreEqual(nr.Shape, sr.Shape, name);
            CollectionAssert.AreEqual(nr.ToFloatArray(), sr.ToFloatArray(), name);
        }
    }

    [TestMethod]
    public void PerSampleLosses_AgreeWithNativeBackend_AndSumToTheSummedLoss()
    {
        float[] logits = { 0.2f, -1f, 2f, 1.5f, 0.1f, -0.3f, -2f, 0.7f, 0.4f, 0f, 0f, 3f };
        long[] classes = { 2, 0, 1, 2 };
        float[] weights = { 0.5f, 2f, 1f };
        float[] targets = { 0.5f, -1f, 1.5f, 1.5f, 0f, -0.5f, -2f, 1f, 0.4f, 0.3f, 0f, 2f };
        foreach (var backend in new[] { Native, Sharp })
        {
            using var l = backend.FromArray(logits, new long[] { 4, 3 }, Device.Cpu);
            using var y = backend.FromArray(classes, new long[] { 4 }, Device.Cpu);
            using var w = backend.FromArray(weights, new long[] { 3 }, Device.Cpu);
            using var perSample = backend.Losses.CrossEntropyPerSample(l, y, w, 0.1);
            using var sum = backend.Losses.CrossEntropySum(l, y, w, 0.1);
            CollectionAssert.AreEqual(new long[] { 4 }, perSample.Shape, backend.Name);
            Assert.AreEqual(sum.Item(), perSample.ToFloatArray().Sum(), 1e-5, $"{backend.Name}: Σ per-sample = sum");
            using var t = backend.FromArray(targets, new long[] { 4, 3 }, Device.Cpu);
            foreach (var kind in new[] { "mse", "l1", "smooth_l1", "huber" })
            {
                using var perElement = backend.Losses.RegressionPerElement(kind, l, t, 0.5);
                using var total = backend.Losses.RegressionSum(kind, l, t, 0.5);
                CollectionAssert.AreEqual(new long[] { 4, 3 }, perElement.Shape, $"{backend.Name} {kind}");
                Assert.AreEqual(total.Item(), perElement.ToFloatArray().Sum(), 1e-5, $"{backend.Name} {kind}: Σ per-element = sum");
            }
        }
        using var nl = Native.FromArray(logits, new long[] { 4, 3 }, Device.Cpu);
        using var ny = Native.FromArray(classes, new long[] { 4 }, Device.Cpu);
        using var sl = Sharp.FromArray(logits, new long[] { 4, 3 }, Device.Cpu);
        using var sy = Sharp.FromArray(classes, new long[] { 4 }, Device.Cpu);
        using var np = Native.Losses.CrossEntropyPerSample(nl, ny, null, 0.2);
        using var sp = Sharp.Losses.CrossEntropyPerSample(sl, sy, null, 0.2);
        CollectionAssert.AreEqual(np.ToFloatArray(), sp.ToFloatArray(), "per-sample cross-entropy, native vs TorchSharp");
    }

    [TestMethod]
    public void AdamWStep_OnTorchSharpParameters_MatchesNativeFusedStep()
    {
        float[] w = { 0.5f, -1.25f, 2f, 0.125f };
        float[] g = { 0.1f, -0.3f, 0.05f, 2f };
        var spec = """{"type": "AdamW", "lr": 0.01, "betas": [0.9, 0.99], "weight_decay": 0.1, "amsgrad": true}""";
        float[] Run(IBackend backend)
        {
            using var p = backend.FromArray(w, new long[] { 4 }, Device.Cpu);
            p.RequiresGrad = true;
            var opt = OptimizerFactory.Create(spec, new[] { new NamedTensor("w", p) });
            for (var step = 0; step < 5; step++)
            {
                using (var scope = backend.NewScope())
                {
                    using var gt = backend.FromArray(g.Select(v => v * (step + 1)).ToArray(), new long[] { 4 }, Device.Cpu);
                    using var loss = p.Mul(gt).Sum();
                    loss.Backward();
                }
                opt.Step();
                opt.ZeroGrad(setToNone: true);
            }
            (opt as IDisposable)?.Dispose();
            return p.ToFloatArray();
        }
        CollectionAssert.AreEqual(Run(Native), Run(Sharp));
    }

    [TestMethod]
    public void MixingBackends_FailsWithClearMessage()
    {
        using var n = Native.FromArray(new float[] { 1 }, new long[] { 1 }, Device.Cpu);
        using var s = Sharp.FromArray(new float[] { 1 }, new long[] { 1 }, Device.Cpu);
        var e = Assert.ThrowsExactly<ArgumentException>(() => s.Add_(n));
        StringAssert.Contains(e.Message, "libtorch-native");
        StringAssert.Contains(e.Message, "cannot be mixed");
    }

    [TestMethod]
    public void Cuda_WithoutGpu_FallsBackOrNamesWhatIsAvailable()
    {
        if (torch.cuda.is_available()) Assert.Inconclusive("A GPU is present; the no-GPU path is not reachable here.");
        Assert.AreEqual(Device.Cpu, Sharp.ResolveDevice(Device.Cuda(0), fallbackToCpu: true));
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Sharp.ResolveDevice(Device.Cuda(0), fallbackToCpu: false));
        StringAssert.Contains(e.Message, "cuda:0");
        StringAssert.Contains(e.Message, "FallbackToCpu");
    }

    [TestMethod]
    public void ScopeFreesTemporaries_DetachedTensorsSurvive()
    {
        ITensor kept, dropped;
        using (Sharp.NewScope())
        {
            using var a = Sharp.FromArray(new float[] { 1, 2 }, new long[] { 2 }, Device.Cpu);
            dropped = a.Mul(2);
            kept = a.Mul(3).DetachFromScope();
        }
        Assert.IsTrue(((TorchSharpTensor)dropped).Value.IsInvalid, "a tensor created in the scope is freed with it");
        CollectionAssert.AreEqual(new float[] { 3, 6 }, kept.ToFloatArray());
        kept.Dispose();
    }

    [TestMethod]
    public void ModelWrapper_ExposesPyTorchNamesAndStableParameterWrappers()
    {
        using var model = new TorchSharpModel(torch.nn.Sequential(("0", torch.nn.Linear(3, 2)), ("1", torch.nn.BatchNorm1d(2))), ownsModule: true);
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "1.weight", "1.bias" }, model.NamedParameters().Select(p => p.Name).ToArray());
        CollectionAssert.IsSubsetOf(new[] { "1.running_mean", "1.running_var" }, model.NamedBuffers().Select(p => p.Name).ToArray());
        Assert.AreSame(model.NamedParameters()[0].Tensor, model.NamedParameters()[0].Tensor, "optimizers key state by tensor identity");
        model.SetTraining(false);
        Assert.IsFalse(model.IsTraining);
    }
}
