using System.Reflection;
using MLLrSched.Backend;
using MLLrSched.TorchSharpBackend;
using TorchSharp;

namespace MLLrSched.TorchSharp.Tests;

/// <summary>The seam's tensor operations over TorchSharp against values computed here, plus ownership (scopes, gradient
/// handles), backend mixing and devices.</summary>
[TestClass]
public sealed class TorchSharpTensorTests
{
    private static readonly IBackend Sharp = TorchSharpBackend.TorchSharpBackend.Instance;

    private static readonly float[] X = [-2.5f, -1f, 0f, 0.5f, 3f, 7.25f];
    private static readonly float[] Y = [1f, 2f, -3f, 4f, 0.25f, -0.5f];
    private static readonly long[] Shape23 = [2, 3];

    private static float[] Map(Func<double, double, double> f) => X.Select((x, i) => (float)f(x, Y[i])).ToArray();

    // One IEEE float32 operation on float32 inputs is the correctly rounded exact result, which (float)(double op) also
    // is (double holds a float product exactly, and double rounding of +, -, ×, ÷, √ to float is innocuous): exact.
    [TestMethod]
    public void SingleRoundingOps_EqualTheCorrectlyRoundedValue()
    {
        foreach (var (name, op, expected) in new (string, Func<ITensor, ITensor, ITensor>, float[])[]
        {
            ("add", (a, b) => a.Add(b), Map((x, y) => x + y)),
            ("sub", (a, b) => a.Sub(b), Map((x, y) => x - y)),
            ("mul", (a, b) => a.Mul(b), Map((x, y) => x * y)),
            ("div", (a, b) => a.Div(b), Map((x, y) => x / y)),
            ("add scalar", (a, _) => a.Add(0.75), Map((x, _) => x + 0.75)),
            ("mul scalar", (a, _) => a.Mul(-3), Map((x, _) => x * -3)),
            ("div scalar", (a, _) => a.Div(4), Map((x, _) => x / 4)),
            ("sqrt abs", (a, _) => a.Abs().Sqrt(), Map((x, _) => Math.Sqrt(Math.Abs(x)))),
            ("square", (a, _) => a.Square(), Map((x, _) => x * x)),
            ("neg", (a, _) => a.Neg(), Map((x, _) => -x)),
            ("sign", (a, _) => a.Sign(), Map((x, _) => Math.Sign(x))),
            ("clamp", (a, _) => a.Clamp(-1, 2), Map((x, _) => Math.Clamp(x, -1, 2))),
            ("clamp min only", (a, _) => a.Clamp(0.5, null), Map((x, _) => Math.Max(x, 0.5))),
            ("maximum", (a, b) => a.Maximum(b), Map(Math.Max)),
            ("minimum", (a, b) => a.Minimum(b), Map(Math.Min)),
            ("where gt", (a, b) => { using var m = a.Gt(0); return a.Where(m, b); }, Map((x, y) => x > 0 ? x : y)),
            ("masked_fill_ lt", (a, _) => { using var m = a.Lt(0); return a.Clone().MaskedFill_(m, 9); }, Map((x, _) => x < 0 ? 9 : x)),
            ("add_ alpha 1", (a, b) => a.Clone().Add_(b), Map((x, y) => x + y)),
            ("mul_", (a, b) => a.Clone().Mul_(b), Map((x, y) => x * y)),
            ("div_ scalar", (a, _) => a.Clone().Div_(8), Map((x, _) => x / 8)),
            ("fill_", (a, _) => a.Clone().Fill_(1.5), Map((_, _) => 1.5)),
            ("zero_", (a, _) => a.Clone().Zero_(), Map((_, _) => 0)),
            ("full_like", (a, _) => a.FullLike(-0.25), Map((_, _) => -0.25)),
            ("maximum_", (a, b) => a.Clone().Maximum_(b), Map(Math.Max)),
        })
        {
            using var scope = Sharp.NewScope();
            var a = Sharp.FromArray(X, Shape23, Device.Cpu);
            var b = Sharp.FromArray(Y, Shape23, Device.Cpu);
            var r = op(a, b);
            CollectionAssert.AreEqual(Shape23, r.Shape, name);
            CollectionAssert.AreEqual(expected, r.ToFloatArray(), name);
        }
    }

    [TestMethod]
    public void CompoundOpsAndReductions_MatchValuesComputedInDouble()
    {
        foreach (var (name, op, expectedShape, expected) in new (string, Func<ITensor, ITensor, ITensor>, long[], double[])[]
        {
            ("add alpha", (a, b) => a.Add(b, 0.3), Shape23, X.Select((x, i) => x + 0.3 * Y[i]).ToArray()),
            ("sub alpha", (a, b) => a.Sub(b, 1.7), Shape23, X.Select((x, i) => x - 1.7 * Y[i]).ToArray()),
            ("sub_ alpha", (a, b) => a.Clone().Sub_(b, 0.5), Shape23, X.Select((x, i) => x - 0.5 * Y[i]).ToArray()),
            ("addcmul_", (a, b) => a.Clone().AddCMul_(b, b, 0.5), Shape23, X.Select((x, i) => x + 0.5 * Y[i] * Y[i]).ToArray()),
            ("addcdiv_", (a, b) => { using var d = b.Abs().Add(1); return a.Clone().AddCDiv_(b, d, 0.25); }, Shape23,
                X.Select((x, i) => x + 0.25 * Y[i] / (Math.Abs(Y[i]) + 1)).ToArray()),
            ("lerp_", (a, b) => a.Clone().Lerp_(b, 0.1), Shape23, X.Select((x, i) => x + 0.1 * (Y[i] - x)).ToArray()),
            ("pow_", (a, _) => a.Abs().Pow_(1.5), Shape23, X.Select(x => Math.Pow(Math.Abs(x), 1.5)).ToArray()),
            ("rsqrt", (a, _) => { using var p = a.Abs().Add(1); return p.Rsqrt(); }, Shape23, X.Select(x => 1 / Math.Sqrt(Math.Abs(x) + 1)).ToArray()),
            ("exp", (_, b) => b.Exp(), Shape23, Y.Select(y => Math.Exp(y)).ToArray()),
            ("log", (_, b) => { using var p = b.Abs(); return p.Log(); }, Shape23, Y.Select(y => Math.Log(Math.Abs(y))).ToArray()),
            ("sum", (a, _) => a.Sum(), [], [X.Sum()]),
            ("sum dim 0 keepdim", (a, _) => a.Sum([0], keepDim: true), [1, 3], [X[0] + X[3], X[1] + X[4], X[2] + X[5]]),
            ("mean", (a, _) => a.Mean(), [], [X.Average()]),
            ("mean dim 1", (a, _) => a.Mean([1]), [2], [X.Take(3).Average(), X.Skip(3).Average()]),
            ("max", (a, _) => a.Max(), [], [X.Max()]),
            ("norm 2", (a, _) => a.Norm(), [], [Math.Sqrt(X.Sum(x => (double)x * x))]),
            ("norm inf", (a, _) => a.Norm(double.PositiveInfinity), [], [X.Max(Math.Abs)]),
            ("norm 1 dim 1", (a, _) => a.Norm(1, [1]), [2], [X.Take(3).Sum(Math.Abs), X.Skip(3).Sum(Math.Abs)]),
            ("dot", (a, b) => { using var u = a.Reshape(6); using var v = b.Reshape(6); return u.Dot(v); }, [],
                [X.Select((x, i) => (double)x * Y[i]).Sum()]),
            ("matmul", (a, b) => { using var bt = b.Reshape(3, 2); return a.MatMul(bt); }, [2, 2],
                [X[0] * Y[0] + X[1] * Y[2] + X[2] * Y[4], X[0] * Y[1] + X[1] * Y[3] + X[2] * Y[5],
                 X[3] * Y[0] + X[4] * Y[2] + X[5] * Y[4], X[3] * Y[1] + X[4] * Y[3] + X[5] * Y[5]]),
            ("narrow", (a, _) => a.Narrow(1, 1, 2), [2, 2], [X[1], X[2], X[4], X[5]]),
            ("cat", (a, b) => Sharp.Cat([a, b], 0), [4, 3], [.. X.Select(x => (double)x), .. Y.Select(y => (double)y)]),
            ("stack", (a, b) => Sharp.Stack([a, b], 0), [2, 2, 3], [.. X.Select(x => (double)x), .. Y.Select(y => (double)y)]),
        })
        {
            using var scope = Sharp.NewScope();
            var a = Sharp.FromArray(X, Shape23, Device.Cpu);
            var b = Sharp.FromArray(Y, Shape23, Device.Cpu);
            var r = op(a, b);
            CollectionAssert.AreEqual(expectedShape, r.Shape, name);
            var actual = r.ToDoubleArray();
            Assert.AreEqual(expected.Length, actual.Length, name);
            for (var i = 0; i < expected.Length; i++)
                Assert.AreEqual(expected[i], actual[i], 2e-6 * Math.Max(1, Math.Abs(expected[i])), $"{name}[{i}]");
        }
    }

    [TestMethod]
    public void InPlaceOps_ReturnTheReceiver_AndItemReadsScalars()
    {
        using var a = Sharp.FromArray(X, Shape23, Device.Cpu);
        Assert.AreSame(a, a.Mul_(2).Add_(1).Sqrt_().Zero_().Fill_(3).Clamp_(null, 2).Neg_().Abs_().Sign_().Pow_(2));
        CollectionAssert.AreEqual(Enumerable.Repeat(1f, 6).ToArray(), a.ToFloatArray());
        using var s = Sharp.Scalar(2.5, DType.Float64, Device.Cpu);
        Assert.AreEqual(0, s.Dim);
        Assert.AreEqual(2.5, s.Item());
        using var mask = a.Eq(1);
        Assert.AreEqual(DType.Bool, mask.DType);
        using var finite = a.IsFinite();
        Assert.AreEqual(DType.Bool, finite.DType);
        using var z = Sharp.Zeros([3], DType.Int64, Device.Cpu);
        Assert.AreEqual(DType.Int64, z.DType);
        using var d = a.ToDType(DType.Float64);
        Assert.AreEqual(DType.Float64, d.DType);
    }

    [TestMethod]
    public void Losses_MatchTheirDefinitions_AndPerSampleTermsSumToTheSum()
    {
        float[] logits = [0.2f, -1f, 2f, 1.5f, 0.1f, -0.3f, -2f, 0.7f, 0.4f, 0f, 0f, 3f];
        long[] classes = [2, 0, 1, 2];
        float[] targets = [0.5f, -1f, 1.5f, 1.5f, 0f, -0.5f, -2f, 1f, 0.4f, 0.3f, 0f, 2f];
        using var scope = Sharp.NewScope();
        var l = Sharp.FromArray(logits, [4, 3], Device.Cpu);
        var y = Sharp.FromArray(classes, [4], Device.Cpu);
        var expected = new double[4];
        for (var n = 0; n < 4; n++)
        {
            var row = logits.Skip(3 * n).Take(3).Select(v => (double)v).ToArray();
            var lse = Math.Log(row.Sum(Math.Exp));
            expected[n] = lse - row[classes[n]];
        }
        var perSample = Sharp.Losses.CrossEntropyPerSample(l, y, null, 0);
        var ps = perSample.ToDoubleArray();
        for (var n = 0; n < 4; n++) Assert.AreEqual(expected[n], ps[n], 1e-5, $"cross-entropy of sample {n}");
        Assert.AreEqual(expected.Sum(), Sharp.Losses.CrossEntropySum(l, y, null, 0).Item(), 1e-5, "summed cross-entropy");

        var w = Sharp.FromArray(new float[] { 0.5f, 2f, 1f }, [3], Device.Cpu);
        var weighted = Sharp.Losses.CrossEntropyPerSample(l, y, w, 0.1);
        Assert.AreEqual(Sharp.Losses.CrossEntropySum(l, y, w, 0.1).Item(), weighted.ToFloatArray().Sum(), 1e-5, "Σ per-sample = sum");

        var t = Sharp.FromArray(targets, [4, 3], Device.Cpu);
        Assert.AreEqual(logits.Select((v, i) => Math.Pow(v - targets[i], 2)).Sum(), Sharp.Losses.RegressionSum("mse", l, t, 0).Item(), 1e-5, "mse");
        Assert.AreEqual(logits.Select((v, i) => Math.Abs(v - targets[i])).Sum(), Sharp.Losses.RegressionSum("l1", l, t, 0).Item(), 1e-5, "l1");
        foreach (var kind in new[] { "mse", "l1", "smooth_l1", "huber" })
        {
            var perElement = Sharp.Losses.RegressionPerElement(kind, l, t, 0.5);
            CollectionAssert.AreEqual(new long[] { 4, 3 }, perElement.Shape, kind);
            Assert.AreEqual(Sharp.Losses.RegressionSum(kind, l, t, 0.5).Item(), perElement.ToFloatArray().Sum(), 1e-5, $"{kind}: Σ per-element = sum");
        }
        Assert.ThrowsExactly<ArgumentException>(() => Sharp.Losses.RegressionSum("l3", l, t, 0));
        var bceTargets = Sharp.FromArray(targets.Select(v => v > 0 ? 1f : 0f).ToArray(), [4, 3], Device.Cpu);
        var bce = logits.Select((z, i) => Math.Log(1 + Math.Exp(z)) - (targets[i] > 0 ? z : 0)).Sum();
        Assert.AreEqual(bce, Sharp.Losses.BinaryCrossEntropyWithLogitsSum(l, bceTargets, null).Item(), 1e-5, "BCE with logits");
    }

    [TestMethod]
    public void Gradients_AccumulateAndClear_AndTheirHandlesAreTheCallersToDispose()
    {
        using var p = Sharp.FromArray(new float[] { 1, -2, 3 }, [3], Device.Cpu);
        p.RequiresGrad = true;
        Assert.IsNull(p.Grad, "no gradient before backward");
        float[] g = [0.5f, 0.25f, -1f];
        for (var pass = 0; pass < 2; pass++)
        {
            using var scope = Sharp.NewScope();
            var gt = Sharp.FromArray(g, [3], Device.Cpu);
            p.Mul(gt).Sum().Backward();
        }
        using (var grad = p.Grad!)
            CollectionAssert.AreEqual(g.Select(v => 2 * v).ToArray(), grad.ToFloatArray(), "two passes accumulate");
        // Disposing a handle from the getter frees the handle only; the gradient is still there.
        using (var again = p.Grad!)
            CollectionAssert.AreEqual(g.Select(v => 2 * v).ToArray(), again.ToFloatArray());
        using (var grad = p.Grad!) grad.Zero_();
        using (var grad = p.Grad!) CollectionAssert.AreEqual(new float[3], grad.ToFloatArray(), "Zero_ through a handle zeroes the gradient itself");
        p.Grad = null;
        Assert.IsNull(p.Grad, "setting null frees it (PyTorch's None)");
        using (var replacement = Sharp.FromArray(new float[] { 7, 8, 9 }, [3], Device.Cpu))
            p.Grad = replacement;
        using (var grad = p.Grad!) CollectionAssert.AreEqual(new float[] { 7, 8, 9 }, grad.ToFloatArray());

        Assert.IsTrue(Sharp.IsGradEnabled);
        using (Sharp.NoGrad())
        {
            Assert.IsFalse(Sharp.IsGradEnabled);
            using var q = p.Mul(2);
            Assert.IsFalse(q.RequiresGrad, "no autograd recording under NoGrad");
        }
        Assert.IsTrue(Sharp.IsGradEnabled);
        using var detached = p.Detach();
        Assert.IsFalse(detached.RequiresGrad);
    }

    [TestMethod]
    public void ScopeFreesTemporaries_DetachedTensorsSurvive()
    {
        ITensor kept, dropped;
        using (Sharp.NewScope())
        {
            using var a = Sharp.FromArray(new float[] { 1, 2 }, [2], Device.Cpu);
            dropped = a.Mul(2);
            kept = a.Mul(3).DetachFromScope();
        }
        Assert.IsTrue(((TorchSharpTensor)dropped).Value.IsInvalid, "a tensor created in the scope is freed with it");
        CollectionAssert.AreEqual(new float[] { 3, 6 }, kept.ToFloatArray());
        kept.Dispose();
    }

    [TestMethod]
    public void RngState_RoundTrips_AndSeedsRepeat()
    {
        Sharp.ManualSeed(42);
        var state = Sharp.GetRngState();
        float[] Draw() { using var t = torch.rand(5); return t.data<float>().ToArray(); }
        var first = Draw();
        Sharp.SetRngState(state);
        CollectionAssert.AreEqual(first, Draw(), "restoring the state repeats the draws");
        Sharp.ManualSeed(42);
        CollectionAssert.AreEqual(first, Draw(), "the same seed repeats the draws");
    }

    [TestMethod]
    public void SparseOps_SayTheyAreUnsupported()
    {
        using var a = Sharp.FromArray(X, Shape23, Device.Cpu);
        var e = Assert.ThrowsExactly<NotSupportedException>(() => a.Coalesce());
        StringAssert.Contains(e.Message, "Sparse");
        Assert.IsFalse(a.IsSparse);
    }

    [TestMethod]
    public void MixingBackends_FailsWithClearMessage()
    {
        var other = StubTensor.Create("other-engine");
        using var s = Sharp.FromArray(new float[] { 1 }, [1], Device.Cpu);
        var e = Assert.ThrowsExactly<ArgumentException>(() => s.Add_(other));
        StringAssert.Contains(e.Message, "other-engine");
        StringAssert.Contains(e.Message, "cannot be mixed");
        e = Assert.ThrowsExactly<ArgumentException>(() => Sharp.Cat([s, other], 0));
        StringAssert.Contains(e.Message, "other-engine");
    }

    [TestMethod]
    public void Cuda_WithoutGpu_FallsBackOrNamesWhatIsAvailable()
    {
        if (torch.cuda.is_available()) Assert.Inconclusive("A GPU is present; the no-GPU path is not reachable here.");
        Assert.AreEqual(Device.Cpu, Sharp.ResolveDevice(Device.Cuda(0), fallbackToCpu: true));
        Assert.AreEqual(Device.Cpu, Sharp.ResolveDevice(Device.Cpu, fallbackToCpu: false));
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Sharp.ResolveDevice(Device.Cuda(0), fallbackToCpu: false));
        StringAssert.Contains(e.Message, "cuda:0");
        StringAssert.Contains(e.Message, "FallbackToCpu");
        StringAssert.Contains(e.Message, "TorchSharp-cuda-linux");
    }

    [TestMethod]
    public void Cuda_WhenAvailable_TensorsGoThereAndBack()
    {
        if (!torch.cuda.is_available()) Assert.Inconclusive("no CUDA device (TorchSharp-cpu, or no GPU)");
        var cuda = Sharp.ResolveDevice(Device.Cuda(0), fallbackToCpu: false);
        using var scope = Sharp.NewScope();
        var a = Sharp.FromArray(X, Shape23, cuda);
        Assert.AreEqual(Device.Cuda(0), a.Device);
        var b = Sharp.FromBytes(a.ToBytes(), DType.Float32, Shape23, cuda);
        CollectionAssert.AreEqual(X, b.Mul(1).ToFloatArray());
        Assert.AreEqual(Device.Cpu, b.ToDevice(Device.Cpu).Device);
    }

    /// <summary>An ITensor of another backend (nothing but its backend's name works).</summary>
    public class StubTensor : DispatchProxy
    {
        private string _backend = "";

        public static ITensor Create(string backendName)
        {
            var t = Create<ITensor, StubTensor>();
            ((StubTensor)(object)t)._backend = backendName;
            return t;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args) => method?.Name switch
        {
            "get_Backend" => StubBackend.Create(_backend),
            "Dispose" => null,
            _ => throw new NotSupportedException(method?.Name),
        };
    }

    /// <summary>The stub tensors' backend: only its name.</summary>
    public class StubBackend : DispatchProxy
    {
        private string _name = "";

        public static IBackend Create(string name)
        {
            var b = Create<IBackend, StubBackend>();
            ((StubBackend)(object)b)._name = name;
            return b;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args) =>
            method?.Name == "get_Name" ? _name : throw new NotSupportedException(method?.Name);
    }
}
