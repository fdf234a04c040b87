using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Torch;

namespace MLLrSched.Trainers.Tests.Optimizers;

[TestClass]
public class StateDictTests
{
    public static IEnumerable<object[]> CaseNames => GoldenParityTests.CaseNames;

    /// <summary>
    /// Run A: 10 steps, save, 10 more. Run B: fresh parameters holding A's values at step 10, a fresh optimizer that
    /// loads the saved state, 10 steps. B must equal A bit for bit (parameters and state), for every golden configuration.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void ResumeAfterLoadContinuesBitForBit(string name) => Resume(Golden.Root, name, semantics: null);

    /// <summary>The resume check on case <paramref name="name"/> of <paramref name="root"/>, with
    /// <c>"torch_semantics"</c> added to its spec when <paramref name="semantics"/> is given.</summary>
    internal static void Resume(System.Text.Json.JsonElement root, string name, string? semantics)
    {
        var c = Golden.Case(root, name);
        var spec = c.GetProperty("spec").GetRawText();
        if (semantics != null) spec = spec.TrimEnd().TrimEnd('}') + $", \"torch_semantics\": \"{semantics}\"}}";
        var problemName = c.GetProperty("problem").GetString()!;
        using var a = new GoldenProblem(root, problemName);
        using var optA = (Optimizer)OptimizerFactory.Create(spec, a.Parameters);
        for (var s = 0; s < 10; s++) Step(optA, a, s);
        using var saved = optA.StateDict();
        var savedParams = a.Parameters.Select(p => ((Tensor)p.Tensor).Detach().Clone()).ToList();
        for (var s = 10; s < 20; s++) Step(optA, a, s);

        using var b = new GoldenProblem(root, problemName);
        using (Torch.Torch.NoGrad())
            for (var i = 0; i < savedParams.Count; i++) ((Tensor)b.Parameters[i].Tensor).Copy_(savedParams[i]);
        using var optB = (Optimizer)OptimizerFactory.Create(spec, b.Parameters);
        optB.LoadStateDict(saved);
        Assert.AreEqual(10, optB.StepCount);
        for (var s = 10; s < 20; s++) Step(optB, b, s);

        for (var i = 0; i < a.Parameters.Count; i++)
            CollectionAssert.AreEqual(((Tensor)a.Parameters[i].Tensor).ToArray<float>(), ((Tensor)b.Parameters[i].Tensor).ToArray<float>(),
                $"{name}: parameter {a.Parameters[i].Name}");
        using var stateA = optA.StateDict();
        using var stateB = optB.StateDict();
        AssertSameState(stateA, stateB, name);
        foreach (var t in savedParams) t.Dispose();
    }

    private static void Step(IOptimizer optimizer, GoldenProblem problem, int step)
    {
        if (optimizer is Lbfgs) optimizer.Step(() => problem.LossAndGrad(optimizer, step));
        else
        {
            problem.LossAndGrad(optimizer, step);
            optimizer.Step();
        }
    }

    internal static void AssertSameState(OptimizerState a, OptimizerState b, string what)
    {
        CollectionAssert.AreEquivalent(a.State.Keys.ToArray(), b.State.Keys.ToArray(), what);
        foreach (var (id, entries) in a.State)
        {
            CollectionAssert.AreEquivalent(entries.Keys.ToArray(), b.State[id].Keys.ToArray(), $"{what}: keys of {id}");
            foreach (var (k, v) in entries)
            {
                var other = b.State[id][k];
                switch (v)
                {
                    case ITensor t: CollectionAssert.AreEqual(t.ToFloatArray(), ((ITensor)other!).ToFloatArray(), $"{what}: {id}.{k}"); break;
                    case ITensor[] list:
                        var otherList = (ITensor[])other!;
                        Assert.HasCount(list.Length, otherList, $"{what}: {id}.{k}");
                        for (var i = 0; i < list.Length; i++)
                            CollectionAssert.AreEqual(list[i].ToFloatArray(), otherList[i].ToFloatArray(), $"{what}: {id}.{k}[{i}]");
                        break;
                    default: Assert.AreEqual(v, other, $"{what}: {id}.{k}"); break;
                }
            }
        }
        Assert.HasCount(a.ParamGroups.Count, b.ParamGroups, what);
        for (var g = 0; g < a.ParamGroups.Count; g++)
            foreach (var (k, v) in a.ParamGroups[g])
            {
                var other = b.ParamGroups[g][k];
                if (v is System.Collections.IEnumerable e and not string)
                    CollectionAssert.AreEqual(e.Cast<object>().ToArray(), ((System.Collections.IEnumerable)other!).Cast<object>().ToArray(), $"{what}: group {g} {k}");
                else Assert.AreEqual(v, other, $"{what}: group {g} {k}");
            }
    }

    private static (List<NamedTensor> Named, Tensor W, Tensor B) TwoParams(long rows = 3, long cols = 4)
    {
        Torch.Torch.ManualSeed(7);
        var w = Tensor.Randn(new[] { rows, cols }).RequiresGrad_();
        var b = Tensor.Randn(new[] { rows }).RequiresGrad_();
        return (new List<NamedTensor> { new("layer.weight", w), new("layer.bias", b) }, w, b);
    }

    private static void FakeStep(IOptimizer opt, params Tensor[] parameters)
    {
        foreach (var p in parameters) p.Grad = p.Detach().Mul(0.5).Add(0.1);
        opt.Step();
    }

    [TestMethod]
    public void AdamStateHasPyTorchStructure()
    {
        var (named, w, b) = TwoParams();
        using var opt = new Adam(new[] { ParamGroup.FromNamed(named) }, lr: 0.01, betas: (0.8, 0.9), amsgrad: true);
        FakeStep(opt, w, b);
        FakeStep(opt, w, b);
        using var sd = opt.StateDict();
        CollectionAssert.AreEquivalent(new long[] { 0, 1 }, sd.State.Keys.ToArray());
        var s0 = sd.State[0];
        CollectionAssert.AreEquivalent(new[] { "step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq" }, s0.Keys.ToArray());
        // torch 1.13 keeps step as a 0-dim float32 tensor.
        var step = (ITensor)s0["step"]!;
        Assert.AreEqual(0, step.Dim);
        Assert.AreEqual(DType.Float32, step.DType);
        Assert.AreEqual(2.0, step.Item());
        CollectionAssert.AreEqual(new long[] { 3, 4 }, ((ITensor)s0["exp_avg"]!).Shape);
        var g = sd.ParamGroups.Single();
        CollectionAssert.AreEqual(new[] { 0.8, 0.9 }, (double[])g["betas"]!);
        CollectionAssert.AreEqual(new long[] { 0, 1 }, (long[])g["params"]!);
        Assert.AreEqual(0.01, g["lr"]);
        Assert.AreEqual(true, g["amsgrad"]);
        Assert.AreEqual(false, g["maximize"]);
        Assert.IsFalse(g.ContainsKey("beta1"), "betas are written as a pair");
        Assert.AreEqual(2, sd.StepCount);
        // The state dict holds copies: stepping on does not change it.
        var before = ((ITensor)s0["exp_avg"]!).ToFloatArray();
        FakeStep(opt, w, b);
        CollectionAssert.AreEqual(before, ((ITensor)s0["exp_avg"]!).ToFloatArray());
        w.Dispose();
        b.Dispose();
    }

    [TestMethod]
    public void LoadRefusesMismatchedShapeNamingTheParameter()
    {
        var (named, w, b) = TwoParams();
        using var opt = new AdamW(new[] { ParamGroup.FromNamed(named) });
        FakeStep(opt, w, b);
        using var sd = opt.StateDict();
        var (other, w2, b2) = TwoParams(4, 3);
        using var target = new AdamW(new[] { ParamGroup.FromNamed(other) });
        var e = Assert.ThrowsExactly<ArgumentException>(() => target.LoadStateDict(sd));
        StringAssert.Contains(e.Message, "'layer.weight'");
        StringAssert.Contains(e.Message, "[4, 3]");
        StringAssert.Contains(e.Message, "[3, 4]");
        Assert.IsNull(target.GetState(w2), "a refused state leaves the optimizer untouched");
        foreach (var t in new[] { w, b, w2, b2 }) t.Dispose();
    }

    [TestMethod]
    public void LoadRefusesDifferentGroupCountOrSize()
    {
        var (named, w, b) = TwoParams();
        using var two = new Sgd(ParameterGroups.WeightDecaySplit(named), lr: 0.1, momentum: 0.9);
        FakeStep(two, w, b);
        using var sd = two.StateDict();
        using var one = new Sgd(new[] { ParamGroup.FromNamed(named) }, lr: 0.1, momentum: 0.9);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => one.LoadStateDict(sd)).Message, "2 parameter group(s)");

        using var swapped = new Sgd(new[] { ParamGroup.FromNamed(named.Take(1)), ParamGroup.FromNamed(named.Skip(1)) }, lr: 0.1);
        sd.ParamGroups[0]["params"] = new long[] { 0, 1 };
        sd.ParamGroups[1]["params"] = Array.Empty<long>();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => swapped.LoadStateDict(sd)).Message,
            "parameter group 0 has 2 parameter(s) in the saved state, 1 here");
        w.Dispose();
        b.Dispose();
    }

    [TestMethod]
    public void LoadRestoresHyperparametersIntoTheSameGroupObjects()
    {
        var (named, w, b) = TwoParams();
        using var opt = new Adam(new[] { ParamGroup.FromNamed(named) }, lr: 0.01);
        FakeStep(opt, w, b);
        using var sd = opt.StateDict();
        sd.ParamGroups[0]["lr"] = 0.5;
        sd.ParamGroups[0]["betas"] = new[] { 0.7, 0.8 };
        sd.ParamGroups[0]["initial_lr"] = 0.01;
        var group = opt.ParamGroups[0];
        opt.LoadStateDict(sd);
        Assert.AreSame(group, opt.ParamGroups[0], "schedules keep references to groups");
        Assert.AreEqual(0.5, group.Lr);
        Assert.AreEqual(0.7, group["beta1"]);
        Assert.AreEqual(0.8, group["beta2"]);
        Assert.AreEqual(0.01, group["initial_lr"]);

        sd.ParamGroups[0]["betas"] = new[] { 1.5, 0.8 };
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => opt.LoadStateDict(sd));
        StringAssert.Contains(e.Message, "betas[0] must be in [0, 1), got 1.5");
        w.Dispose();
        b.Dispose();
    }

    [TestMethod]
    public void LoadAcceptsPyTorchNumbersForTensorScalars()
    {
        // A state written by PyTorch < 1.12 (or by hand) has plain numbers where 1.13 has 0-dim tensors.
        var (named, w, b) = TwoParams();
        using var opt = new Adam(new[] { ParamGroup.FromNamed(named) });
        FakeStep(opt, w, b);
        using var sd = opt.StateDict();
        ((ITensor)sd.State[0]["step"]!).Dispose();
        sd.State[0]["step"] = 1.0;
        opt.LoadStateDict(sd);
        Assert.AreEqual(1L, opt.GetState(w)!.Long("step"));
        w.Dispose();
        b.Dispose();
    }
}
