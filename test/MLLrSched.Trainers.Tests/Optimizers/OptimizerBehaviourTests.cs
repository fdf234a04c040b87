using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Torch;

namespace MLLrSched.Trainers.Tests.Optimizers;

[TestClass]
public class OptimizerBehaviourTests
{
    private static readonly string[] SpeedSwitches = { "foreach", "differentiable", "capturable", "fused" };

    /// <summary>Each type built from <c>{"type": X}</c> has PyTorch's (or the reference's) defaults in its group.</summary>
    [TestMethod]
    public void DefaultsMatchThePyTorchClasses() => CheckDefaults(Golden.Root, semantics: null);

    /// <summary>The defaults recorded in a golden file (built with its <c>defaults_args</c>, e.g. SGD's lr where PyTorch
    /// requires one) against ours, optionally under a <c>torch_semantics</c>.</summary>
    internal static void CheckDefaults(JsonElement root, string? semantics)
    {
        var args = root.TryGetProperty("defaults_args", out var a) ? a : JsonDocument.Parse("""{"SGD": {"lr": 0.1}}""").RootElement;
        foreach (var entry in root.GetProperty("defaults").EnumerateObject())
        {
            using var p = Tensor.Zeros(new long[] { 2, 2 }).RequiresGrad_();
            var extra = args.TryGetProperty(entry.Name, out var e0) ? e0.EnumerateObject().Select(x => $", \"{x.Name}\": {x.Value.GetRawText()}") : [];
            var json = $$"""{"type":"{{entry.Name}}"{{string.Concat(extra)}}{{(semantics == null ? "" : $", \"torch_semantics\": \"{semantics}\"")}}}""";
            using var opt = (Optimizer)OptimizerFactory.Create(json, new[] { new NamedTensor("p", p) });
            Assert.AreEqual(entry.Name, opt.Name);
            using var sd = opt.StateDict();
            var ours = sd.ParamGroups[0];
            foreach (var e in entry.Value.EnumerateObject())
            {
                if (SpeedSwitches.Contains(e.Name)) continue;
                Assert.IsTrue(ours.ContainsKey(e.Name), $"{entry.Name}: no '{e.Name}'");
                var v = ours[e.Name];
                var what = $"{entry.Name}.{e.Name}";
                switch (e.Value.ValueKind)
                {
                    case JsonValueKind.Null: Assert.IsNull(v, what); break;
                    case JsonValueKind.True or JsonValueKind.False: Assert.AreEqual(e.Value.GetBoolean(), v, what); break;
                    case JsonValueKind.Array:
                        CollectionAssert.AreEqual(e.Value.EnumerateArray().Select(x => x.GetDouble()).ToArray(), (double[])v!, what);
                        break;
                    default: Assert.AreEqual(e.Value.GetDouble(), Convert.ToDouble(v), what); break;
                }
            }
            foreach (var k in ours.Keys.Where(k => k != "params"))
                Assert.IsTrue(entry.Value.TryGetProperty(k, out _), $"{entry.Name}: we write '{k}', PyTorch does not");
        }
    }

    [TestMethod]
    public void EveryRegisteredTypeIsDocumentedAndBuildable()
    {
        var names = OptimizerFactory.Registry.Names;
        foreach (var n in new[] { "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "Adadelta", "RMSprop", "ASGD",
                     "Rprop", "LBFGS", "SparseAdam", "Lion", "Lamb", "Adafactor" })
        {
            CollectionAssert.Contains(names.ToArray(), n);
            var schema = OptimizerFactory.SchemaOf(n)!;
            Assert.IsTrue(schema.HyperParameters.All(h => !string.IsNullOrWhiteSpace(h.Description)), $"{n}: every argument is described");
        }
        var docs = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "optimizers.md"));
        foreach (var n in names.Where(n => n != "SignSGD"))
        {
            StringAssert.Contains(docs, $"`\"type\": \"{n}\"`", $"docs/optimizers.md documents {n}");
            foreach (var h in OptimizerFactory.SchemaOf(n)!.HyperParameters.Where(h => h.Settable))
                StringAssert.Contains(docs, $"`{h.Name}`", $"docs/optimizers.md documents {n}'s {h.Name}");
        }
    }

    private static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "MLLrSched.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    [TestMethod]
    public void ParametersWithoutGradientsAreSkipped()
    {
        using var a = Tensor.Ones(new long[] { 3 }).RequiresGrad_();
        using var b = Tensor.Ones(new long[] { 3 }).RequiresGrad_();
        using var opt = new AdamW(new[] { a, b }, lr: 0.1, weightDecay: 0.5);
        a.Grad = Tensor.Ones(new long[] { 3 });
        opt.Step();
        CollectionAssert.AreEqual(new float[] { 1, 1, 1 }, b.ToArray<float>(), "no gradient: no update, no decay (as PyTorch)");
        Assert.IsNull(opt.GetState(b));
        Assert.AreNotEqual(1f, a.ToArray<float>()[0]);
        Assert.AreEqual(1, opt.StepCount);
    }

    [TestMethod]
    public void ZeroGradSetsNoneOrZeros()
    {
        using var a = Tensor.Ones(new long[] { 2 }).RequiresGrad_();
        using var opt = new Sgd(new[] { a }, lr: 0.1);
        a.Grad = Tensor.Ones(new long[] { 2 });
        opt.ZeroGrad(setToNone: false);
        using (var g = a.Grad) CollectionAssert.AreEqual(new float[] { 0, 0 }, g!.ToArray<float>());
        opt.ZeroGrad();
        Assert.IsNull(a.Grad);
    }

    [TestMethod]
    public void StepWithClosureReturnsTheLossAndSchedulesSeeGroupChanges()
    {
        using var w = Tensor.FromArray(new float[] { 2f }, 1).RequiresGrad_();
        using var opt = new Sgd(new[] { w }, lr: 0.25);
        double Closure()
        {
            opt.ZeroGrad();
            using var scope = TensorScope.Open();
            var loss = w.Mul(w).Sum();
            loss.Backward();
            return loss.ToDouble();
        }
        Assert.AreEqual(4.0, opt.Step(Closure));
        Assert.AreEqual(1f, w.ToArray<float>()[0]);   // 2 − 0.25·4
        opt.ParamGroups[0].Lr = 0.5;                    // what a schedule does between steps
        Assert.AreEqual(1.0, opt.Step(Closure));
        Assert.AreEqual(0f, w.ToArray<float>()[0]);
    }

    [TestMethod]
    public void AdagradCreatesStateAtConstructionAndAddParamGroupFillsDefaults()
    {
        using var a = Tensor.Ones(new long[] { 2 }).RequiresGrad_();
        using var b = Tensor.Ones(new long[] { 3 }).RequiresGrad_();
        using var opt = new Adagrad(new[] { a }, lr: 0.1, initialAccumulatorValue: 0.5);
        CollectionAssert.AreEqual(new float[] { 0.5f, 0.5f }, opt.GetState(a)!.Tensor("sum").ToFloatArray());
        opt.AddParamGroup(new ParamGroup(new[] { b }, new Dictionary<string, double> { ["lr"] = 0.2 }));
        Assert.AreEqual(0.2, opt.ParamGroups[1].Lr);
        Assert.AreEqual(0.5, opt.ParamGroups[1]["initial_accumulator_value"]);
        Assert.AreEqual(0L, opt.GetState(b)!.Long("step"));
        Assert.ThrowsExactly<ArgumentException>(() => opt.AddParamGroup(new ParamGroup(new[] { b })));
    }

    [TestMethod]
    public void JsonFusedSwitchAndForeachAreAccepted()
    {
        using var p = Tensor.Zeros(new long[] { 2 }).RequiresGrad_();
        var named = new[] { new NamedTensor("p", p) };
        using var a = (Optimizer)OptimizerFactory.Create("""{"type":"AdamW","fused":false,"foreach":null}""", named);
        Assert.IsFalse(a.UseFusedKernels);
        using var b = (Optimizer)OptimizerFactory.Create("""{"type":"AdamW","foreach":true}""", named);
        Assert.IsTrue(b.UseFusedKernels);
    }

    [TestMethod]
    public void ReprListsGroupsLikePyTorch()
    {
        using var p = Tensor.Zeros(new long[] { 2 }).RequiresGrad_();
        using var opt = new Adam(new[] { p }, lr: 0.01);
        var s = opt.ToString();
        StringAssert.StartsWith(s, "Adam (\nParameter Group 0\n");
        StringAssert.Contains(s, "    betas: (0.9, 0.999)\n");
        StringAssert.Contains(s, "    amsgrad: False\n");
    }

    [TestMethod]
    public void DisposeFreesStateAndRefusesFurtherUse()
    {
        using var p = Tensor.Zeros(new long[] { 2 }).RequiresGrad_();
        var opt = new Adam(new[] { p });
        p.Grad = Tensor.Ones(new long[] { 2 });
        opt.Step();
        var m = (Tensor)opt.GetState(p)!.Tensor("exp_avg");
        opt.Dispose();
        Assert.IsTrue(m.IsDisposed);
        Assert.ThrowsExactly<ObjectDisposedException>(opt.Step);
    }

    [TestMethod]
    public void StateSurvivesTheCallersScope()
    {
        using var p = Tensor.Zeros(new long[] { 2 }).RequiresGrad_();
        using var opt = new RmsProp(new[] { p }, momentum: 0.9, centered: true);
        using (TensorScope.Open())
        {
            p.Grad = Tensor.Ones(new long[] { 2 });
            opt.Step();
        }
        var state = opt.GetState(p)!;
        foreach (var key in new[] { "square_avg", "momentum_buffer", "grad_avg" })
            Assert.IsFalse(((Tensor)state.Tensor(key)).IsDisposed, key);
        p.Grad = Tensor.Ones(new long[] { 2 });
        opt.Step();
        Assert.AreEqual(2L, state.Long("step"));
    }
}
