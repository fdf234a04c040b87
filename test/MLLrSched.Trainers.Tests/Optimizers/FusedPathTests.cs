using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Torch;
using MLLrSched.Tests.PolicySuite;

namespace MLLrSched.Trainers.Tests.Optimizers;

/// <summary>
/// The fused CPU kernels against the tensor-op path on tensors large enough to be split across threads and with
/// odd sizes (vector tails): 20 steps with random gradients, every flag combination. The kernels reproduce ATen's
/// rounding (see native/src/fused_kernels.cpp), so on AVX2 CPUs the two agree bit for bit; the assertion allows 1e-6.
/// </summary>
[TestClass]
public class FusedPathTests
{
    private const double Tolerance = 1e-6;

    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> Configs => new[]
    {
        new object[] { "SGD", """{"type":"SGD","lr":0.01}""" },
        new object[] { "SGD momentum wd maximize", """{"type":"SGD","lr":0.01,"momentum":0.9,"dampening":0.2,"weight_decay":0.1,"maximize":true}""" },
        new object[] { "SGD nesterov", """{"type":"SGD","lr":0.01,"momentum":0.8,"nesterov":true,"weight_decay":0.01}""" },
        new object[] { "Adam", """{"type":"Adam","lr":0.01}""" },
        new object[] { "Adam amsgrad wd maximize", """{"type":"Adam","lr":0.01,"weight_decay":0.1,"amsgrad":true,"maximize":true}""" },
        new object[] { "AdamW", """{"type":"AdamW","lr":0.01,"betas":[0.8,0.95],"eps":1e-6}""" },
        new object[] { "AdamW amsgrad maximize", """{"type":"AdamW","lr":0.01,"weight_decay":0.3,"amsgrad":true,"maximize":true}""" },
        new object[] { "Lion", """{"type":"Lion","lr":0.001,"weight_decay":0.5}""" },
        new object[] { "RMSprop", """{"type":"RMSprop","lr":0.01}""" },
        new object[] { "RMSprop centered momentum wd", """{"type":"RMSprop","lr":0.01,"momentum":0.9,"centered":true,"weight_decay":0.1}""" },
        new object[] { "RMSprop centered maximize", """{"type":"RMSprop","lr":0.01,"centered":true,"maximize":true}""" },
        new object[] { "RMSprop momentum", """{"type":"RMSprop","lr":0.01,"momentum":0.5,"alpha":0.9}""" },
        new object[] { "Adagrad", """{"type":"Adagrad","lr":0.1}""" },
        new object[] { "Adagrad decay wd maximize", """{"type":"Adagrad","lr":0.1,"lr_decay":0.05,"weight_decay":0.1,"initial_accumulator_value":0.2,"maximize":true}""" },
        // PyTorch 2.x's forms: lerp_ with a small weight (1 - β < 0.5), a large one (≥ 0.5, exactly 0.5 included), pow.
        new object[] { "2.x Adam", """{"type":"Adam","lr":0.01,"torch_semantics":"2.x"}""" },
        new object[] { "2.x Adam amsgrad wd maximize", """{"type":"Adam","lr":0.01,"weight_decay":0.1,"amsgrad":true,"maximize":true,"torch_semantics":"2.x"}""" },
        new object[] { "2.x AdamW", """{"type":"AdamW","lr":0.01,"betas":[0.8,0.95],"eps":1e-6,"torch_semantics":"2.x"}""" },
        new object[] { "2.x AdamW beta1 0.5", """{"type":"AdamW","lr":0.01,"betas":[0.5,0.9],"amsgrad":true,"torch_semantics":"2.x"}""" },
        new object[] { "2.x AdamW beta1 0.2", """{"type":"AdamW","lr":0.01,"betas":[0.2,0.9],"weight_decay":0.3,"maximize":true,"torch_semantics":"2.x"}""" },
        new object[] { "2.x RMSprop centered momentum wd", """{"type":"RMSprop","lr":0.01,"momentum":0.9,"centered":true,"weight_decay":0.1,"torch_semantics":"2.x"}""" },
        new object[] { "2.x RMSprop centered alpha 0.3", """{"type":"RMSprop","lr":0.01,"alpha":0.3,"centered":true,"maximize":true,"torch_semantics":"2.x"}""" },
        new object[] { "2.x RMSprop centered alpha 0.5 momentum", """{"type":"RMSprop","lr":0.01,"alpha":0.5,"momentum":0.5,"centered":true,"torch_semantics":"2.x"}""" },
        new object[] { "2.x RMSprop", """{"type":"RMSprop","lr":0.01,"torch_semantics":"2.x"}""" },
    };

    [TestMethod]
    [DynamicData(nameof(Configs))]
    public void FusedEqualsTensorOps(string label, string spec)
    {
        var fused = Run(spec, fusedKernels: true);
        var plain = Run(spec, fusedKernels: false);
        var worst = new Deviation();
        for (var i = 0; i < fused.Length; i++) worst.Add($"param {i}", fused[i], plain[i]);
        TestContext.WriteLine($"{label}: fused vs tensor ops, max diff relative to each tensor's scale {worst.Rel:G3}");
        Assert.IsLessThanOrEqualTo(Tolerance, worst.Rel, $"{label}: {worst.Where}");
    }

    /// <summary>Negative control: the 2.x forms are really selected — the fused 2.x step differs from the fused 1.13 step
    /// (the lerp and the pow round differently somewhere in 20 steps over 100k elements), on both lerp branches.</summary>
    [TestMethod]
    [DataRow("Adam", 0.9)]
    [DataRow("AdamW", 0.3)]
    [DataRow("RMSprop", 0.99)]
    [DataRow("RMSprop", 0.4)]
    public void TwoXFormsDifferFrom113Forms(string type, double beta)
    {
        var b = beta.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var args = type == "RMSprop" ? $"\"alpha\":{b},\"centered\":true" : $"\"betas\":[{b},0.999]";
        var v1 = Run($$"""{"type":"{{type}}","lr":0.01,{{args}},"torch_semantics":"1.13"}""", fusedKernels: true);
        var v2 = Run($$"""{"type":"{{type}}","lr":0.01,{{args}},"torch_semantics":"2.x"}""", fusedKernels: true);
        var differing = v1.Zip(v2).Sum(pair => pair.First.Zip(pair.Second).Count(x => x.First != x.Second));
        TestContext.WriteLine($"{type} β {beta}: {differing} of {v1.Sum(x => x.Length)} elements differ between the 1.13 and 2.x forms");
        Assert.IsGreaterThan(0, differing, "the 2.x formulas must change some bits");
    }

    private static float[][] Run(string spec, bool fusedKernels)
    {
        var shapes = new[] { new long[] { 300, 337 }, new long[] { 100_003 }, new long[] { 7 } };
        Torch.Torch.ManualSeed(42);
        var named = shapes.Select((s, i) => new NamedTensor($"p{i}", Tensor.Randn(s).RequiresGrad_())).ToList();
        using var opt = (Optimizer)OptimizerFactory.Create(spec, named);
        opt.UseFusedKernels = fusedKernels;
        var gen = new Generator(1);
        for (var step = 0; step < 20; step++)
        {
            foreach (var p in named)
            {
                using var g = Tensor.Randn(p.Tensor.Shape, gen);
                ((Tensor)p.Tensor).Grad = g;
            }
            opt.Step();
        }
        var result = named.Select(p => p.Tensor.ToFloatArray()).ToArray();
        foreach (var p in named) p.Tensor.Dispose();
        return result;
    }

    [TestMethod]
    public void KernelsDeclineWhatTheyCannotRun()
    {
        var k = FusedKernels.Instance;
        using var p64 = Tensor.Zeros(new long[] { 4 }, DType.Float64);
        using var g64 = Tensor.Zeros(new long[] { 4 }, DType.Float64);
        using var m64 = Tensor.Zeros(new long[] { 4 }, DType.Float64);
        Assert.IsFalse(k.TryAdam(p64, g64, m64, m64, null, 0.1, 0.9, 0.99, 1e-8, 0, 1, true, false, false, false), "float64");
        using var p = Tensor.Zeros(new long[] { 3, 4 });
        using var strided = p.T;
        using var g = Tensor.Zeros(new long[] { 4, 3 });
        using var m = Tensor.Zeros(new long[] { 4, 3 });
        Assert.IsFalse(k.TrySgd(strided, g, m, 0.1, 0.9, 0, 0, false, false, false), "non-contiguous");
        Assert.IsFalse(k.TryLion(strided, g, m, 0.1, 0.9, 0.99, 0), "non-contiguous");
        using var pc = Tensor.Zeros(new long[] { 4, 3 });
        Assert.IsTrue(k.TryLion(pc, g, m, 0.1, 0.9, 0.99, 0));
        Assert.IsTrue(k.TryRmsprop(pc, g, m, null, null, 0.1, 0.99, 1e-8, 0, 0, false, false));
        Assert.IsTrue(k.TryAdagrad(pc, g, m, 0.1, 1e-10, 0, false));
    }

    [TestMethod]
    public void NonContiguousAndDoubleParametersFallBackToTensorOps()
    {
        // A transposed (strided) float32 parameter and a float64 one: the fused kernels decline, the results must equal
        // a run with fused kernels off.
        float[] RunOnce(bool fused, DType dtype)
        {
            Torch.Torch.ManualSeed(3);
            using var baseT = Tensor.Randn(new long[] { 5, 8 }, dtype: dtype);
            var p = baseT.T.Detach().RequiresGrad_();
            Assert.IsFalse(p.IsContiguous && dtype == DType.Float32);
            using var opt = new AdamW(new[] { p }, lr: 0.05, amsgrad: true) { UseFusedKernels = fused };
            for (var i = 0; i < 5; i++)
            {
                using var g = p.Detach().Mul(0.3).Add(0.1);
                p.Grad = g;
                opt.Step();
            }
            var r = p.ToArray<float>();
            p.Dispose();
            return r;
        }
        CollectionAssert.AreEqual(RunOnce(false, DType.Float32), RunOnce(true, DType.Float32));
        CollectionAssert.AreEqual(RunOnce(false, DType.Float64), RunOnce(true, DType.Float64));
    }
}
