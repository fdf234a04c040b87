using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Torch;

namespace MLLrSched.Trainers.Tests.Optimizers;

/// <summary>
/// Every optimizer against real PyTorch (tools/golden/optimizers.py): 100 steps of each golden case, built from the
/// same JSON spec, on the fused path and on the tensor-op path. Parameters, losses and the final state agree within
/// 1e-5 relative (|a − b| ≤ 1e-5·max(|b|, 1e-3)).
/// </summary>
[TestClass]
public class GoldenParityTests
{
    internal const double RelTol = 1e-5;
    internal const double Floor = 1e-3;

    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> CaseNames => Golden.Cases.Select(c => new object[] { c.GetProperty("name").GetString()! });

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void FusedPathMatchesPyTorch(string name) => Run(name, fused: true);

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void TensorOpPathMatchesPyTorch(string name) => Run(name, fused: false);

    [TestMethod]
    public void GoldenDataRecordsTorchVersion()
    {
        Assert.AreEqual("Debian python3-torch 1.13.1", Golden.Root.GetProperty("torch_package").GetString());
        StringAssert.StartsWith(Golden.Root.GetProperty("torch_version").GetString(), "1.13");
        Assert.IsGreaterThanOrEqualTo(44, Golden.Cases.Count());
    }

    private void Run(string name, bool fused)
    {
        var c = Golden.Case(name);
        using var problem = new GoldenProblem(c.GetProperty("problem").GetString()!);
        var optimizer = OptimizerFactory.Create(c.GetProperty("spec").GetRawText(), problem.Parameters);
        using var disposable = (IDisposable)optimizer;
        ((Optimizer)optimizer).UseFusedKernels = fused;
        CheckGroups(c.GetProperty("param_groups"), optimizer);

        var losses = c.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        var trajectory = c.GetProperty("trajectory");
        var isLbfgs = optimizer is Lbfgs;
        var worst = new Worst();
        for (var step = 0; step < losses.Length; step++)
        {
            var s = step;
            double loss;
            if (isLbfgs) loss = optimizer.Step(() => problem.LossAndGrad(optimizer, s));
            else
            {
                loss = problem.LossAndGrad(optimizer, s);
                optimizer.Step();
            }
            worst.Add($"loss@{step + 1}", new[] { (float)loss }, new[] { (float)losses[step] });
            if (trajectory.TryGetProperty((step + 1).ToString(), out var expected))
                foreach (var p in expected.EnumerateObject())
                    worst.Add($"{p.Name}@{step + 1}", problem.Param(p.Name).ToArray<float>(), Golden.Data(p.Value));
        }
        using (var state = optimizer.StateDict())
            CheckState(c.GetProperty("state"), state, worst);
        TestContext.WriteLine($"{name} ({(fused ? "fused" : "tensor ops")}): max abs err {worst.Abs:G3}, max rel err {worst.Rel:G3} at {worst.Where}; {worst.Count} values compared");
        Assert.IsGreaterThanOrEqualTo(losses.Length + 8 * problem.Parameters.Sum(p => p.Tensor.NumberOfElements), worst.Count, "values compared");
        Assert.IsLessThanOrEqualTo(RelTol, worst.Rel, $"{name}: worst relative error {worst.Rel:G3} at {worst.Where}");
    }

    private static void CheckGroups(JsonElement expected, IOptimizer optimizer)
    {
        using var sd = optimizer.StateDict();
        Assert.HasCount(expected.GetArrayLength(), sd.ParamGroups, "number of parameter groups");
        var optimizerGroups = optimizer.ParamGroups;
        for (var i = 0; i < sd.ParamGroups.Count; i++)
        {
            var e = expected[i];
            CollectionAssert.AreEqual(e.GetProperty("params").EnumerateArray().Select(x => x.GetString()).ToArray(),
                optimizerGroups[i].Names.ToArray(), $"group {i} members");
            foreach (var (key, value) in sd.ParamGroups[i])
            {
                if (key == "params") continue;
                Assert.IsTrue(e.TryGetProperty(key, out var ev), $"group {i}: PyTorch's group has no '{key}'");
                AssertSameValue(ev, value, $"group {i} '{key}'");
            }
            // Keys PyTorch has that we do not write are its speed switches only.
            foreach (var p in e.EnumerateObject())
                if (!sd.ParamGroups[i].ContainsKey(p.Name))
                    CollectionAssert.Contains(new[] { "foreach", "differentiable", "capturable", "fused", "step" }, p.Name,
                        $"group {i}: our state dict lacks '{p.Name}'");
        }
    }

    private static void AssertSameValue(JsonElement expected, object? actual, string what)
    {
        switch (actual)
        {
            case null: Assert.AreEqual(JsonValueKind.Null, expected.ValueKind, what); break;
            case bool b: Assert.AreEqual(b, expected.GetBoolean(), what); break;
            case string s: Assert.AreEqual(s, expected.GetString(), what); break;
            case long l: Assert.AreEqual(l, expected.GetDouble(), what); break;
            case double d: Assert.AreEqual(expected.GetDouble(), d, Math.Abs(d) * 1e-12, what); break;
            case double[] pair:
                CollectionAssert.AreEqual(expected.EnumerateArray().Select(x => x.GetDouble()).ToArray(), pair, what);
                break;
            default: Assert.Fail($"{what}: unexpected value type {actual.GetType().Name}"); break;
        }
    }

    private static void CheckState(JsonElement expected, OptimizerState actual, Worst worst)
    {
        var ids = expected.EnumerateObject().Select(p => long.Parse(p.Name)).Order().ToArray();
        CollectionAssert.AreEqual(ids, actual.State.Keys.Order().ToArray(), "parameters with state");
        foreach (var p in expected.EnumerateObject())
        {
            var entries = actual.State[long.Parse(p.Name)];
            CollectionAssert.AreEquivalent(p.Value.EnumerateObject().Select(e => e.Name).ToArray(), entries.Keys.ToArray(),
                $"state keys of parameter {p.Name}");
            foreach (var e in p.Value.EnumerateObject())
            {
                var where = $"state[{p.Name}].{e.Name}";
                switch (entries[e.Name])
                {
                    case ITensor t:
                        var want = e.Value.ValueKind == JsonValueKind.Object ? Golden.Data(e.Value) : new[] { (float)e.Value.GetDouble() };
                        worst.Add(where, t.ToFloatArray(), want);
                        break;
                    case ITensor[] list:
                        Assert.HasCount(e.Value.GetArrayLength(), list, where);
                        for (var i = 0; i < list.Length; i++) worst.Add($"{where}[{i}]", list[i].ToFloatArray(), Golden.Data(e.Value[i]));
                        break;
                    case long l: Assert.AreEqual(e.Value.GetDouble(), l, where); break;
                    case double d:
                        var ed = e.Value.ValueKind == JsonValueKind.Object ? Golden.Data(e.Value)[0] : e.Value.GetDouble();
                        worst.Add(where, new[] { (float)d }, new[] { (float)ed });
                        break;
                    case null: Assert.AreEqual(JsonValueKind.Null, e.Value.ValueKind, where); break;
                    default: Assert.Fail($"{where}: unexpected {entries[e.Name]!.GetType().Name}"); break;
                }
            }
        }
    }

    [TestMethod]
    public void ParityCheckDetectsL2InsteadOfDecoupledDecay()
    {
        // Negative control: Adam's L2 decay on AdamW's golden case must be caught.
        var c = Golden.Case("AdamW_default");
        using var problem = new GoldenProblem("mlp");
        using var adam = new Adam(problem.Parameters.Select(p => p.Tensor), lr: 0.01, weightDecay: 0.1);
        var expected = c.GetProperty("trajectory").GetProperty("100");
        for (var step = 0; step < 100; step++)
        {
            problem.LossAndGrad(adam, step);
            adam.Step();
        }
        var worst = new Worst();
        foreach (var p in expected.EnumerateObject()) worst.Add(p.Name, problem.Param(p.Name).ToArray<float>(), Golden.Data(p.Value));
        Assert.IsGreaterThan(1e-3, worst.Rel, "L2 decay must not pass for decoupled decay");
    }

    /// <summary>Tracks the worst error over everything compared.</summary>
    internal sealed class Worst
    {
        public double Abs, Rel;
        public long Count;
        public string Where = "-";

        public void Add(string where, float[] actual, float[] expected)
        {
            Assert.HasCount(expected.Length, actual, where);
            Count += actual.Length;
            for (var i = 0; i < actual.Length; i++)
            {
                var abs = Math.Abs((double)actual[i] - expected[i]);
                if (double.IsNaN(abs)) abs = double.PositiveInfinity;
                var rel = abs / Math.Max(Math.Abs((double)expected[i]), Floor);
                Abs = Math.Max(Abs, abs);
                if (rel > Rel)
                {
                    Rel = rel;
                    Where = $"{where}[{i}]: {actual[i]:R} vs {expected[i]:R}";
                }
            }
        }
    }
}
