using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Specs;
using MLLrSched.Tests.Shared;
using MLLrSched.Torch;

namespace MLLrSched.Trainers.Tests.Optimizers;

/// <summary>The PyTorch 2.6 golden set (tools/golden/data/torch-2.6/optimizers), whatever libtorch this engine runs.</summary>
internal static class Golden26
{
    private static readonly Lazy<GoldenSet?> Found = new(() => GoldenSet.For("2.6"));
    private static readonly Lazy<JsonElement> Doc = new(() => Set.Load("optimizers/optimizers.json"));
    private static readonly Lazy<JsonElement> VariationDoc = new(() => Set.Load("optimizers/variation.json"));

    /// <summary>The set; inconclusive (skipped, saying why) where it was not recorded.</summary>
    public static GoldenSet Set => Found.Value ?? GoldenSet.Require("2.6");

    public static JsonElement Root => Doc.Value;

    public static JsonElement Variation => VariationDoc.Value;

    /// <summary>The case names; one placeholder (that ends inconclusive) when the set is missing, so nothing is silently absent.</summary>
    public static IEnumerable<object[]> CaseNames => Names(_ => true);

    /// <summary>The cases of <c>torch.optim</c> classes (not the transcribed references Lion, Lamb, Adafactor).</summary>
    public static IEnumerable<object[]> TorchOptimCaseNames => Names(type => type is not ("Lion" or "Lamb" or "Adafactor"));

    private static IEnumerable<object[]> Names(Func<string, bool> type) => Found.Value == null
        ? [["(no torch-2.6 set)"]]
        : Root.GetProperty("cases").EnumerateArray()
            .Where(c => type(c.GetProperty("spec").GetProperty("type").GetString()!))
            .Select(c => new object[] { c.GetProperty("name").GetString()! });
}

/// <summary>
/// Version-selectable semantics (<see cref="TorchSemantics"/>): PyTorch 2.x semantics, asked for with
/// <c>"torch_semantics": "2.x"</c>, replayed on this engine's libtorch against PyTorch 2.6's golden data; mutations of
/// the 2.x formulas caught; the spec key, the C# property and the auto default (a fake backend that says libtorch 2.10).
/// </summary>
/// <remarks>The optimizer formulas are float ops every libtorch rounds alike (ATen's add/addcmul/lerp kernels, checked
/// bit for bit against the fused kernels by FusedPathTests); the problem's forward and backward are not — its matrix
/// products follow the BLAS and its reductions the ATen build — so the replay is compared within the variation
/// tools/golden/cpu_variation.py measured for the 2.6 set, and the error is reported.</remarks>
[TestClass]
public class TorchSemanticsTests
{
    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> Cases26 => Golden26.CaseNames;

    public static IEnumerable<object[]> TorchOptimCases26 => Golden26.TorchOptimCaseNames;

    [TestMethod]
    [DynamicData(nameof(Cases26))]
    public void TwoXSemanticsMatchPyTorch26_FusedPath(string name) => Run26(name, fused: true);

    [TestMethod]
    [DynamicData(nameof(Cases26))]
    public void TwoXSemanticsMatchPyTorch26_TensorOpPath(string name) => Run26(name, fused: false);

    private void Run26(string name, bool fused)
    {
        var root = Golden26.Root;
        GoldenParityTests.Run(TestContext, root, name, fused, GoldenParityTests.Committed(Golden26.Variation, name), semantics: "2.x");
    }

    /// <summary>
    /// The replay bit for bit: where the 2.6 set and this engine's own set were made with the same kernels (OpenBLAS core
    /// and ATen dispatch, recorded in both) and this machine runs them too (it reproduces its own set's SGD_plain bit for
    /// bit), the problem's gradients are the same bits in both versions, so every <c>torch.optim</c> case must match 2.6
    /// exactly under 2.x semantics — which also catches changes that only move the last bit (lerp_ vs mul_/add_). The
    /// reference transcriptions (Lion, Lamb, Adafactor) are left out: Lamb and Adafactor call <c>Tensor.norm</c>, which
    /// libtorch 2.6 rounds differently from 1.13.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(TorchOptimCases26))]
    public void TwoXSemanticsMatchPyTorch26BitForBitWhereTheKernelsAgree(string name)
    {
        RequireSameKernels();
        var exact = GoldenParityTests.Exact with { Why = "same kernels as the 2.6 set: bit for bit" };
        GoldenParityTests.Run(TestContext, Golden26.Root, name, fused: true, exact, semantics: "2.x");
        GoldenParityTests.Run(TestContext, Golden26.Root, name, fused: false, exact, semantics: "2.x");
    }

    /// <summary>Mutations that only move last bits fail the exact replay: 1.13's mul_/add_ first moment instead of lerp_.</summary>
    [TestMethod]
    [DataRow("Adam_default", true)]
    [DataRow("Adam_default", false)]
    [DataRow("AdamW_patterns_maximize", true)]
    [DataRow("RAdam_default", false)]
    [DataRow("RMSprop_centered_maximize", true)]
    [DataRow("Adamax_default", false)]
    public void MulAddFirstMomentUnder2xFailsTheExactReplay(string name, bool fused)
    {
        RequireSameKernels();
        var bad = GoldenParityTests.Run(TestContext, Golden26.Root, name, fused, GoldenParityTests.Exact, semantics: "2.x",
            configure: o => o.SetBehaviourForTests(o.Behaviour.With(lerpMoments: false)), assert: false);
        Assert.IsGreaterThan(0.0, bad.Rel, "1.13's first-moment form must not reproduce PyTorch 2.6 bit for bit");
    }

    private static readonly Lazy<string?> KernelMismatch = new(() =>
    {
        string Kernels(JsonElement root) => $"OpenBLAS {Str(root, "openblas_core")}, ATen {Str(root, "cpu_capability")}";
        static string Str(JsonElement root, string key) => root.TryGetProperty(key, out var v) ? v.GetString()! : "(not recorded)";
        var own = Kernels(Golden.Root);
        var set26 = Kernels(Golden26.Root);
        var recorded = Str(Golden26.Root, "openblas_core");
        if (BlasKernels.OpenBlasCore != recorded)
            return $"this process's OpenBLAS runs {BlasKernels.OpenBlasCore} kernels, the 2.6 set was made with {recorded} (set OPENBLAS_CORETYPE={recorded} to run it)";
        if (own != set26) return $"the engine's own set ({NativeGoldenName}) was made with {own}, the 2.6 set with {set26}";
        var worst = GoldenParityTests.Run(new NullContext(), Golden.Root, "SGD_plain", fused: false, GoldenParityTests.Exact, assert: false);
        return worst.Rel == 0 ? null
            : $"this machine does not reproduce its own set ({own}) bit for bit (SGD_plain: {worst.Rel:G3}), so it runs other kernels";
    });

    private static string NativeGoldenName => Support.NativeGolden.Set.Name;

    private static void RequireSameKernels()
    {
        if (KernelMismatch.Value is { } why) throw new AssertInconclusiveException($"bit-for-bit replay of the 2.6 set skipped: {why}");
    }

    /// <summary>A TestContext that discards what is written (for the precondition run).</summary>
    private sealed class NullContext : TestContext
    {
        public override IDictionary<string, object?> Properties { get; } = new Dictionary<string, object?>();
        public override void AddResultFile(string fileName) { }
        public override void DisplayMessage(MessageLevel messageLevel, string message) { }
        public override void Write(string? message) { }
        public override void Write(string format, params object?[] args) { }
        public override void WriteLine(string? message) { }
        public override void WriteLine(string format, params object?[] args) { }
    }

    [TestMethod]
    public void SquareRootsFollowPythonUnderEachVersion()
    {
        // A value where C's pow(x, 0.5) (Python's x ** 0.5, .NET's Math.Pow) and sqrt differ in the last bit; the bits
        // are Python's (3.11, glibc): 0x1.605a6a1e02c97p-1 ** 0.5 = 0x1.a8bdab6244c04p-1, math.sqrt = ...c05p-1.
        var x = BitConverter.Int64BitsToDouble(0x3FE605A6A1E02C97);
        Assert.AreEqual(0x3FEA8BDAB6244C04, BitConverter.DoubleToInt64Bits(AdamUpdate.SquareRoot(TorchBehaviour.Torch2, x)));
        Assert.AreEqual(0x3FEA8BDAB6244C05, BitConverter.DoubleToInt64Bits(AdamUpdate.SquareRoot(TorchBehaviour.Torch1_13, x)));
    }

    [TestMethod]
    public void Golden26IsPyTorch26AndHasTheNewArgumentsCases()
    {
        Golden26.Set.AssertMadeByThisSeries(Golden26.Root, "optimizers.json");
        Golden26.Set.AssertMadeByThisSeries(Golden26.Variation, "variation.json");
        var names = Golden26.Root.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
        var v113 = Golden.Root.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
        CollectionAssert.IsSubsetOf(v113, names, "the 2.6 set runs every case of the 1.13 set");
        foreach (var n in new[] { "NAdam_decoupled_maximize", "RAdam_decoupled_maximize", "SGD_default_lr_momentum" })
            CollectionAssert.Contains(names, n);
        foreach (var name in names)
        {
            var v = Golden26.Variation.GetProperty("cases").GetProperty(name);
            if (!name.StartsWith("LBFGS", StringComparison.Ordinal)) Assert.AreEqual(100, v.GetProperty("horizon").GetInt32(), name);
            Assert.IsLessThanOrEqualTo(1e-2, v.GetProperty("tolerance").GetDouble(), name);
        }
        TestContext.WriteLine($"2.6 set: {names.Count} cases, made on OpenBLAS {Golden26.Root.GetProperty("openblas_core").GetString()}, " +
                              $"ATen {Golden26.Root.GetProperty("cpu_capability").GetString()}; this engine: libtorch {Torch.Torch.Version}");
    }

    /// <summary>Save after 10 steps, load into a fresh optimizer, 10 more: bit for bit, under 2.x semantics too (step
    /// tensors, SGD without state, NAdam/RAdam's new arguments in the groups).</summary>
    [TestMethod]
    [DynamicData(nameof(Cases26))]
    public void ResumeUnder2xContinuesBitForBit(string name) => StateDictTests.Resume(Golden26.Root, name, semantics: "2.x");

    [TestMethod]
    public void DefaultsMatchPyTorch26() => OptimizerBehaviourTests.CheckDefaults(Golden26.Root, semantics: "2.x");

    // ------------------------------------------------------------------ mutations

    /// <summary>1.13's <c>mu_product_next = mu_product·μₜ·μₜ₊₁</c> (μₜ twice) under otherwise 2.x semantics must fail.</summary>
    [TestMethod]
    [DataRow("NAdam_default")]
    [DataRow("NAdam_decoupled_maximize")]
    public void OldNAdamMuProductNextFailsUnder2x(string name)
    {
        var how = GoldenParityTests.Committed(Golden26.Variation, name);
        var good = GoldenParityTests.Run(TestContext, Golden26.Root, name, fused: false, how, semantics: "2.x", assert: false);
        var bad = GoldenParityTests.Run(TestContext, Golden26.Root, name, fused: false, how, semantics: "2.x",
            configure: o => o.SetBehaviourForTests(o.Behaviour.With(nadamMuProductNextOnce: false)), assert: false);
        Assert.IsLessThanOrEqualTo(how.Tolerance, good.Rel, "unmutated");
        Assert.IsGreaterThan(how.Tolerance, bad.Rel, "the old mu_product_next must not pass against PyTorch 2.6");
    }

    /// <summary>1.13 semantics (L2 decay into the gradient, no maximize) where 2.x decouples must fail: NAdam and RAdam's
    /// decoupled_weight_decay cases with the decoupling mutated away.</summary>
    [TestMethod]
    [DataRow("NAdam_decoupled_groups")]
    [DataRow("RAdam_decoupled_maximize")]
    public void IgnoringDecoupledWeightDecayFails(string name)
    {
        var how = GoldenParityTests.Committed(Golden26.Variation, name);
        var bad = GoldenParityTests.Run(TestContext, Golden26.Root, name, fused: false, how, semantics: "2.x",
            configure: o =>
            {
                foreach (var g in o.ParamGroups) g.SetOption("decoupled_weight_decay", false);
            }, assert: false);
        Assert.IsGreaterThan(how.Tolerance, bad.Rel);
    }

    // ------------------------------------------------------------------ the spec key and the property

    private static Tensor P() => Tensor.Zeros(new long[] { 2, 3 }).RequiresGrad_();

    private static IOptimizer Create(string json, ITensor p) => OptimizerFactory.Create(json, new[] { new NamedTensor("w", p) });

    [TestMethod]
    public void VersionStringsMapToSemantics()
    {
        Assert.AreEqual(TorchSemantics.Torch1_13, TorchBehaviour.SemanticsOf("1.13.0"));
        Assert.AreEqual(TorchSemantics.Torch1_13, TorchBehaviour.SemanticsOf("1.13.0a0"));
        Assert.AreEqual(TorchSemantics.Torch1_13, TorchBehaviour.SemanticsOf("1.9.1"));
        Assert.AreEqual(TorchSemantics.Torch2, TorchBehaviour.SemanticsOf("2.0.0"));
        Assert.AreEqual(TorchSemantics.Torch2, TorchBehaviour.SemanticsOf("2.6.0+cpu"));
        Assert.AreEqual(TorchSemantics.Torch2, TorchBehaviour.SemanticsOf("2.10.0"));
        Assert.AreEqual(TorchSemantics.Torch2, TorchBehaviour.SemanticsOf("10.1"));
        Assert.ThrowsExactly<ArgumentException>(() => TorchBehaviour.SemanticsOf("unknown"));
        Assert.ThrowsExactly<ArgumentException>(() => TorchBehaviour.SemanticsOf(""));
        Assert.AreSame(TorchBehaviour.Torch2, TorchBehaviour.Of(TorchSemantics.Auto, "2.10.0"));
        Assert.AreSame(TorchBehaviour.Torch1_13, TorchBehaviour.Of(TorchSemantics.Torch1_13, "2.10.0"));
        Assert.AreSame(TorchBehaviour.Torch2, TorchBehaviour.Of(TorchSemantics.Torch2, null));
        foreach (var s in new[] { "auto", "1.13", "2.x" }) Assert.AreEqual(s, TorchBehaviour.Format(TorchBehaviour.Parse(s)));
        Assert.IsFalse(TorchBehaviour.Torch1_13.LerpMoments || TorchBehaviour.Torch1_13.PowSquareRoots || TorchBehaviour.Torch1_13.NAdamMuProductNextOnce
                       || TorchBehaviour.Torch1_13.SgdStateOnlyWithMomentum || TorchBehaviour.Torch1_13.StepAsTensorEverywhere);
        Assert.IsTrue(TorchBehaviour.Torch2.LerpMoments && TorchBehaviour.Torch2.PowSquareRoots && TorchBehaviour.Torch2.NAdamMuProductNextOnce
                      && TorchBehaviour.Torch2.SgdStateOnlyWithMomentum && TorchBehaviour.Torch2.StepAsTensorEverywhere);
    }

    [TestMethod]
    public void AutoFollowsThisEnginesLibtorch()
    {
        using var p = P();
        using var opt = (Optimizer)Create("""{"type":"Adam"}""", p);
        Assert.AreEqual(TorchSemantics.Auto, opt.TorchSemantics);
        Assert.AreSame(TorchBehaviour.Of(TorchSemantics.Auto, Torch.Torch.Version), opt.Behaviour);
        using var explicitAuto = (Optimizer)Create("""{"type":"Adam","torch_semantics":"auto"}""", p);
        Assert.AreSame(opt.Behaviour, explicitAuto.Behaviour);
    }

    [TestMethod]
    public void AutoOnABackendThatSaysLibtorch2SelectsTwoX()
    {
        using var real = P();
        var p = FakeVersion.Wrap(real, "2.10.0");
        // SGD without lr: 2.x's default; NAdam's maximize: a 2.x argument.
        using var sgd = (Optimizer)Create("""{"type":"SGD"}""", p);
        Assert.AreEqual(TorchSemantics.Auto, sgd.TorchSemantics);
        Assert.AreSame(TorchBehaviour.Torch2, sgd.Behaviour);
        Assert.AreEqual(1e-3, sgd.ParamGroups[0].Lr);
        using var csharp = new Sgd(new[] { p });
        Assert.AreEqual(1e-3, csharp.ParamGroups[0].Lr);
        using var nadam = (Optimizer)Create("""{"type":"NAdam","maximize":true,"decoupled_weight_decay":true,"weight_decay":0.1}""", p);
        Assert.AreSame(TorchBehaviour.Torch2, nadam.Behaviour);
        using (var sd = nadam.StateDict())
        {
            Assert.IsTrue((bool)sd.ParamGroups[0]["maximize"]!);
            Assert.IsTrue((bool)sd.ParamGroups[0]["decoupled_weight_decay"]!);
        }
        // SGD without momentum keeps no state under 2.x (1.13: momentum_buffer = None).
        real.Grad = Tensor.Ones(new long[] { 2, 3 });
        sgd.Step();
        using (var sd = sgd.StateDict()) Assert.IsEmpty(sd.State);
        // The explicit key wins over the backend.
        using var old = (Optimizer)Create("""{"type":"SGD","lr":0.1,"torch_semantics":"1.13"}""", p);
        Assert.AreSame(TorchBehaviour.Torch1_13, old.Behaviour);
        old.Step();
        using (var sd = old.StateDict()) Assert.IsNull(sd.State[0]["momentum_buffer"]);
    }

    [TestMethod]
    public void AutoOnABackendThatSaysLibtorch1RefusesTwoXArguments()
    {
        using var real = P();
        var p = FakeVersion.Wrap(real, "1.13.1");
        var e = Assert.ThrowsExactly<SpecException>(() => Create("""{"type":"NAdam","maximize":false}""", p));
        StringAssert.Contains(e.Message, "Invalid 'maximize' in optimizer 'NAdam': PyTorch 1.13's NAdam has no 'maximize' (added in 2.x)");
        StringAssert.Contains(e.Message, "because its parameters' libtorch is 1.13.1");
        StringAssert.Contains(e.Message, "\"torch_semantics\": \"2.x\"");
        e = Assert.ThrowsExactly<SpecException>(() => Create("""{"type":"RAdam","param_groups":[{"params":"all","decoupled_weight_decay":true}]}""", p));
        StringAssert.Contains(e.Message, "Invalid 'decoupled_weight_decay' in param_groups[0] of optimizer 'RAdam'");
        e = Assert.ThrowsExactly<SpecException>(() => Create("""{"type":"SGD"}""", p));
        StringAssert.Contains(e.Message, "Missing 'lr' in optimizer 'SGD': it is required (learning rate) under PyTorch 1.13 semantics");
        var a = Assert.ThrowsExactly<ArgumentException>(() => new NAdam(new[] { p }, maximize: true));
        StringAssert.Contains(a.Message, "NAdam: PyTorch 1.13's NAdam has no 'maximize' (added in 2.x); it follows PyTorch 1.13 because its parameters' libtorch is 1.13.1");
        Assert.AreEqual("maximize", a.ParamName);
        using var ok = new NAdam(new[] { p }, maximize: true, semantics: TorchSemantics.Torch2);
        Assert.AreSame(TorchBehaviour.Torch2, ok.Behaviour);
    }

    [TestMethod]
    public void SpecKeyIsValidated()
    {
        using var p = P();
        var e = Assert.ThrowsExactly<SpecException>(() => Create("""{"type":"Adam","torch_semantics":"2.6"}""", p));
        StringAssert.Contains(e.Message, "'2.6' is not one of: 'auto', '1.13', '2.x'");
        Assert.ThrowsExactly<SpecException>(() => Create("""{"type":"Adam","torch_semantics":2}""", p));
        Assert.ThrowsExactly<SpecException>(() => Create("""{"type":"Adam","param_groups":[{"params":"all","torch_semantics":"2.x"}]}""", p));
        // Validate without parameters: explicit semantics are checked, auto leaves the version-dependent checks to Create.
        static JsonElement J(string s) => JsonDocument.Parse(s).RootElement;
        OptimizerFactory.Validate(J("""{"type":"NAdam","maximize":true}"""));
        OptimizerFactory.Validate(J("""{"type":"SGD"}"""));
        OptimizerFactory.Validate(J("""{"type":"NAdam","maximize":true,"torch_semantics":"2.x"}"""));
        OptimizerFactory.Validate(J("""{"type":"SGD","torch_semantics":"2.x"}"""));
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => OptimizerFactory.Validate(J("""{"type":"NAdam","maximize":true,"torch_semantics":"1.13"}"""))).Message,
            "as \"torch_semantics\": \"1.13\" asks");
        StringAssert.Contains(Assert.ThrowsExactly<SpecException>(() => OptimizerFactory.Validate(J("""{"type":"SGD","torch_semantics":"1.13"}"""))).Message,
            "Missing 'lr'");
    }

    [TestMethod]
    public void ParamGroupKeysFollowTheVersion()
    {
        using var p = P();
        foreach (var type in new[] { "NAdam", "RAdam" })
        {
            using var v1 = (Optimizer)Create($$"""{"type":"{{type}}","torch_semantics":"1.13"}""", p);
            using var v2 = (Optimizer)Create($$"""{"type":"{{type}}","torch_semantics":"2.x"}""", p);
            using var s1 = v1.StateDict();
            using var s2 = v2.StateDict();
            Assert.IsFalse(s1.ParamGroups[0].ContainsKey("maximize"), type);
            Assert.IsFalse(s1.ParamGroups[0].ContainsKey("decoupled_weight_decay"), type);
            Assert.IsFalse((bool)s2.ParamGroups[0]["maximize"]!, type);
            Assert.IsFalse((bool)s2.ParamGroups[0]["decoupled_weight_decay"]!, type);
            StringAssert.Contains(v2.ToString(), "maximize: False");
            Assert.IsFalse(v1.ToString().Contains("maximize", StringComparison.Ordinal), type);
        }
        using var sgd = (Optimizer)Create("""{"type":"SGD","torch_semantics":"2.x"}""", p);
        Assert.AreEqual(1e-3, sgd.ParamGroups[0].Lr);
        Assert.AreEqual("required before 2.x, then 0.001", Sgd.Arguments.Find("lr")!.DefaultText);
    }

    [TestMethod]
    [DataRow("RMSprop")]
    [DataRow("Adadelta")]
    [DataRow("Rprop")]
    public void StepIsATensorUnder2xAndLoadsAcrossVersions(string type)
    {
        using var p = P();
        using var v1 = (Optimizer)Create($$"""{"type":"{{type}}","torch_semantics":"1.13"}""", p);
        using var v2 = (Optimizer)Create($$"""{"type":"{{type}}","torch_semantics":"2.x"}""", p);
        for (var i = 0; i < 3; i++)
        {
            p.Grad = Tensor.Full(new long[] { 2, 3 }, 0.5 + i);
            v1.Step();
            v2.Step();
        }
        using var s1 = v1.StateDict();
        using var s2 = v2.StateDict();
        Assert.AreEqual(3L, s1.State[0]["step"]);
        var t = (ITensor)s2.State[0]["step"]!;
        Assert.AreEqual(0, t.Dim);
        Assert.AreEqual(DType.Float32, t.DType);
        Assert.AreEqual(3.0, t.Item());
        // Either form loads into either version (PyTorch's load_state_dict keeps what it gets; both count on from it).
        v1.LoadStateDict(s2);
        using (var again = v1.StateDict()) Assert.AreEqual(3L, again.State[0]["step"]);
        v2.LoadStateDict(s1);
        using (var again = v2.StateDict()) Assert.AreEqual(3.0, ((ITensor)again.State[0]["step"]!).Item());
    }

    [TestMethod]
    public void PropertyCanBeSetBeforeTheFirstStepOnly()
    {
        using var p = P();
        using var adam = new Adam(new[] { p }, semantics: TorchSemantics.Torch1_13);
        Assert.AreSame(TorchBehaviour.Torch1_13, adam.Behaviour);
        adam.TorchSemantics = TorchSemantics.Torch2;
        Assert.AreEqual(TorchSemantics.Torch2, adam.TorchSemantics);
        Assert.AreSame(TorchBehaviour.Torch2, adam.Behaviour);
        p.Grad = Tensor.Ones(new long[] { 2, 3 });
        adam.Step();
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => adam.TorchSemantics = TorchSemantics.Torch1_13).Message,
            "before the first step");

        // A 2.x-only setting keeps the optimizer on 2.x; the refused change leaves it as it was.
        using var nadam = new NAdam(new[] { p }, maximize: true, semantics: TorchSemantics.Torch2);
        var e = Assert.ThrowsExactly<ArgumentException>(() => nadam.TorchSemantics = TorchSemantics.Torch1_13);
        StringAssert.Contains(e.Message, "PyTorch 1.13's NAdam has no 'maximize'");
        Assert.AreSame(TorchBehaviour.Torch2, nadam.Behaviour);
        // ... and so does a group added later, or a loaded state that sets it.
        using var q = P();
        using var plain = new NAdam(new[] { p }, semantics: TorchSemantics.Torch1_13);
        Assert.ThrowsExactly<ArgumentException>(() => plain.AddParamGroup(new ParamGroup(new[] { q }, options: new Dictionary<string, object?> { ["maximize"] = true })));
        using var saved = nadam.StateDict();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => plain.LoadStateDict(saved)).Message, "Cannot load the NAdam state");
    }

    [TestMethod]
    public void SgdLrIsRequiredUnder113Only()
    {
        using var p = P();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new Sgd(new[] { p }, semantics: TorchSemantics.Torch1_13)).Message,
            "SGD: lr is required under PyTorch 1.13 semantics (PyTorch 1.13 has no default for it; 2.x defaults to 0.001).");
        using var sgd = new Sgd(new[] { p }, semantics: TorchSemantics.Torch2);
        Assert.AreEqual(1e-3, sgd.ParamGroups[0].Lr);
        using var given = new Sgd(new[] { p }, lr: 0.5, semantics: TorchSemantics.Torch1_13);
        Assert.AreEqual(0.5, given.ParamGroups[0].Lr);
    }

    [TestMethod]
    public void NAdamAndRAdamNewArgumentsWorkFromCSharp()
    {
        // decoupled_weight_decay = p *= 1 - lr*wd before the moments; with a zero gradient the moments stay 0 (NAdam's
        // and RAdam's updates are 0 then), so one step only decays.
        foreach (var make in new Func<ITensor, Optimizer>[]
                 {
                     w => new NAdam(new[] { w }, lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: true, semantics: TorchSemantics.Torch2),
                     w => new RAdam(new[] { w }, lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: true, semantics: TorchSemantics.Torch2),
                 })
        {
            using var w = Tensor.Full(new long[] { 3 }, 2.0).RequiresGrad_();
            using var opt = make(w);
            w.Grad = Tensor.Zeros(new long[] { 3 });
            opt.Step();
            var decayed = 2f * (float)(1 - 0.1 * 0.5);
            CollectionAssert.AreEqual(new[] { decayed, decayed, decayed }, w.ToArray<float>(), opt.Name);
        }
        // maximize: the same as minimizing the negated gradient.
        using var a = Tensor.Full(new long[] { 3 }, 1.0).RequiresGrad_();
        using var b = Tensor.Full(new long[] { 3 }, 1.0).RequiresGrad_();
        using var up = new RAdam(new[] { a }, lr: 0.1, maximize: true, semantics: TorchSemantics.Torch2);
        using var down = new RAdam(new[] { b }, lr: 0.1, semantics: TorchSemantics.Torch2);
        for (var i = 0; i < 8; i++)
        {
            a.Grad = Tensor.Full(new long[] { 3 }, 0.3 * (i + 1));
            b.Grad = Tensor.Full(new long[] { 3 }, -0.3 * (i + 1));
            up.Step();
            down.Step();
        }
        CollectionAssert.AreEqual(b.ToArray<float>(), a.ToArray<float>());
        Assert.IsGreaterThan(1f, a.ToArray<float>()[0]);
    }
}

/// <summary>
/// Tensors whose backend says another libtorch version: a proxy over a real tensor that answers <see cref="ITensor.Backend"/>
/// with a proxy over the real backend whose <see cref="IBackend.LibtorchVersion"/> is the given string. Everything else
/// is the real tensor's (proxies passed as arguments are unwrapped), so optimizers run on it as usual, on the tensor-op
/// path (the fused kernels decline what is not their own tensor type).
/// </summary>
public class FakeVersion : DispatchProxy
{
    private object _target = null!;
    private Func<MethodInfo, object?>? _override;

    public static ITensor Wrap(ITensor tensor, string libtorchVersion)
    {
        var backend = DispatchProxy.Create<IBackend, FakeVersion>();
        ((FakeVersion)(object)backend)._target = tensor.Backend;
        ((FakeVersion)(object)backend)._override = m => m.Name == "get_LibtorchVersion" ? libtorchVersion : Pass;
        var t = DispatchProxy.Create<ITensor, FakeVersion>();
        ((FakeVersion)(object)t)._target = tensor;
        ((FakeVersion)(object)t)._override = m => m.Name == "get_Backend" ? backend : Pass;
        return t;
    }

    private static readonly object Pass = new();

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        var answer = _override?.Invoke(method!);
        if (!ReferenceEquals(answer, Pass)) return answer;
        if (args != null)
            for (var i = 0; i < args.Length; i++)
                if (args[i] is FakeVersion f) args[i] = f._target;
        try
        {
            return method!.Invoke(_target, args);
        }
        catch (TargetInvocationException e) when (e.InnerException != null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
