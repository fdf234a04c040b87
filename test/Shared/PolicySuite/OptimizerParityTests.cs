using System.Text.Json;
using System.Text.Json.Nodes;
using MLLrSched.Backend;
using MLLrSched.Optimizers;

namespace MLLrSched.Tests.PolicySuite;

/// <summary>
/// Every optimizer's golden cases of the "mlp" problem (tools/golden/optimizers.py; "mlp_neg" too, the loss negated for
/// maximize) on the suite's engine: the network is a <c>ModuleSpec</c> Sequential(Linear(6, 5), Tanh, Linear(5, 3))
/// built by the engine's module builder, its weights set from the golden initialisation, then 100 steps of the
/// mean-squared error computed with the script's ops, against the golden set of the engine's torch version: the loss of
/// every step, the weights at the recorded steps, and the optimizer's final state.
/// </summary>
/// <remarks>
/// The allowed error per case comes from the engine's tolerance file in the golden set
/// (<see cref="SuiteEngine.OptimizerTolerances"/>): on the native engine PyTorch's own cross-CPU variation
/// (optimizers/variation.json, 10×); on TorchSharp the deviation measured for its libtorch build
/// (optimizers/torchsharp.json, tools/golden/torchsharp_tolerances.py: max(10× that variation, 4× the measured
/// deviation), each case with its reason). A chaotic case (LBFGS) is compared up to its horizon only.
/// With MLLRSCHED_SUITE_RECORD=folder set, each case writes its measured deviation per recorded step there instead of
/// asserting it (the measuring mode of tools/golden/torchsharp_tolerances.py).
/// </remarks>
[TestClass]
public class OptimizerParityTests
{
    public TestContext TestContext { get; set; } = null!;

    private static JsonElement Root => SuiteGolden.Load("optimizers/optimizers.json");
    private static JsonElement Tolerances => SuiteGolden.Load(SuiteEngine.OptimizerTolerances);
    private static string? RecordFolder => Environment.GetEnvironmentVariable("MLLRSCHED_SUITE_RECORD") is { Length: > 0 } f ? f : null;

    public static IEnumerable<object[]> MlpCases => Root.GetProperty("cases").EnumerateArray()
        .Where(c => c.GetProperty("problem").GetString()!.StartsWith("mlp", StringComparison.Ordinal))
        .Select(c => new object[] { c.GetProperty("name").GetString()! });

    [TestMethod]
    public void ToleranceFileFitsThisEngineAndEveryCase()
    {
        var t = Tolerances;
        if (t.TryGetProperty("engine", out var engine))
        {
            var measured = engine.GetString()!;
            if (measured != SuiteEngine.ToleranceKey)
                throw new AssertInconclusiveException(
                    $"{SuiteEngine.OptimizerTolerances} was measured on '{measured}', this engine is '{SuiteEngine.ToleranceKey}': " +
                    "re-measure with tools/golden/torchsharp_tolerances.sh");
            Assert.AreEqual(SuiteGolden.Set.Name, t.GetProperty("golden_set").GetString(), "measured against this golden set");
        }
        SuiteGolden.Set.AssertMadeByThisSeries(Root, "optimizers.json");
        var cases = t.GetProperty("cases");
        var names = MlpCases.Select(c => (string)c[0]).ToArray();
        Assert.IsGreaterThanOrEqualTo(35, names.Length, "mlp cases");
        foreach (var name in names)
        {
            Assert.IsTrue(cases.TryGetProperty(name, out var v), $"{name} has no tolerance in {SuiteEngine.OptimizerTolerances}");
            var horizon = v.GetProperty("horizon").GetInt32();
            // Only the line-search optimizer may be chaotic; anything else losing its horizon needs a look, not a shorter comparison.
            if (!name.StartsWith("LBFGS", StringComparison.Ordinal)) Assert.AreEqual(100, horizon, $"{name}: {v.GetProperty("why").GetString()}");
            else Assert.IsGreaterThanOrEqualTo(5, horizon, $"{name}: {v.GetProperty("why").GetString()}");
            Assert.IsLessThanOrEqualTo(1e-2, v.GetProperty("tolerance").GetDouble(), $"{name}: tolerance");
        }
    }

    [TestMethod]
    [DynamicData(nameof(MlpCases))]
    public void MatchesPyTorch(string name)
    {
        var c = Root.GetProperty("cases").EnumerateArray().First(x => x.GetProperty("name").GetString() == name);
        var record = RecordFolder;
        var tol = record == null ? Tolerances.GetProperty("cases").GetProperty(name) : default;
        var horizon = record == null ? tol.GetProperty("horizon").GetInt32() : int.MaxValue;
        var compareState = record != null || tol.GetProperty("compare_state").GetBoolean();

        var b = SuiteEngine.Backend;
        var problem = Root.GetProperty("problems").GetProperty("mlp");
        var negate = c.GetProperty("problem").GetString()!.EndsWith("_neg", StringComparison.Ordinal);
        var init = problem.GetProperty("init");
        int inputs = (int)SuiteGolden.Shape(init.GetProperty("0.weight"))[1], hidden = (int)SuiteGolden.Shape(init.GetProperty("0.weight"))[0];
        var outputs = (int)SuiteGolden.Shape(init.GetProperty("2.weight"))[0];
        using var model = SuiteFixtures.Mlp(inputs, hidden, outputs);
        SuiteGolden.SetWeights(model, init);
        using var x = SuiteGolden.Tensor(problem.GetProperty("x"));
        using var y = SuiteGolden.Tensor(problem.GetProperty("y"));
        var parameters = model.NamedParameters();
        var optimizer = OptimizerFactory.Create(c.GetProperty("spec").GetRawText(), parameters);
        using var disposable = optimizer as IDisposable;
        CheckGroups(c.GetProperty("param_groups"), optimizer);

        double LossAndGrad()
        {
            optimizer.ZeroGrad();
            using var scope = b.NewScope();
            // The script's ops: diff = pred − y; loss = mean(diff · diff), negated for the maximize cases.
            var pred = model.Forward(x);
            var diff = pred.Sub(y);
            var loss = diff.Mul(diff).Mean();
            if (negate) loss = loss.Neg();
            loss.Backward();
            return loss.Item();
        }

        var losses = c.GetProperty("losses").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var trajectory = c.GetProperty("trajectory");
        var worst = new Deviation();
        var byStep = new SortedDictionary<int, double>();
        var steps = Math.Min(losses.Length, horizon);
        for (var step = 0; step < steps; step++)
        {
            var loss = optimizer.RequiresClosure ? optimizer.Step(LossAndGrad) : LossAndGrad();
            if (!optimizer.RequiresClosure) optimizer.Step();
            worst.Add($"loss@{step + 1}", [(float)loss], [(float)losses[step]]);
            if (trajectory.TryGetProperty((step + 1).ToString(), out var expected))
            {
                var named = parameters.ToDictionary(p => p.Name, p => p.Tensor);
                foreach (var p in expected.EnumerateObject()) worst.Add($"{p.Name}@{step + 1}", named[p.Name], p.Value);
                byStep[step + 1] = worst.Rel;
            }
        }
        var stateDeviation = new Deviation();
        using (var state = optimizer.StateDict())
            CheckState(c.GetProperty("state"), state, compareState && steps == losses.Length ? stateDeviation : null);

        if (record != null)
        {
            Directory.CreateDirectory(record);
            var o = new JsonObject
            {
                ["case"] = name, ["engine"] = SuiteEngine.ToleranceKey, ["golden_set"] = SuiteGolden.Set.Name,
                ["by_step"] = new JsonObject(byStep.Select(kv => KeyValuePair.Create(kv.Key.ToString(), (JsonNode?)kv.Value))),
                ["state"] = stateDeviation.Rel, ["worst_at"] = worst.Where, ["state_worst_at"] = stateDeviation.Where,
            };
            File.WriteAllText(Path.Combine(record, name + ".json"), o.ToJsonString());
            TestContext.WriteLine($"{name}: recorded; deviation {worst.Rel:G3} at {worst.Where}, state {stateDeviation.Rel:G3} at {stateDeviation.Where}");
            return;
        }

        var tolerance = tol.GetProperty("tolerance").GetDouble();
        var all = Math.Max(worst.Rel, stateDeviation.Rel);
        var where = worst.Rel >= stateDeviation.Rel ? worst.Where : stateDeviation.Where;
        TestContext.WriteLine($"{name} on {SuiteEngine.ToleranceKey} vs {SuiteGolden.Set.Name}: {steps} steps, max deviation {all:G3} at {where}; " +
                              $"{worst.Count + stateDeviation.Count} values; tolerance {tolerance:G3} ({tol.GetProperty("why").GetString()})");
        var minimum = compareState ? losses.Length + 8 * parameters.Sum(p => p.Tensor.NumberOfElements) : steps;
        Assert.IsGreaterThanOrEqualTo(minimum, worst.Count + stateDeviation.Count, "values compared");
        Assert.IsLessThanOrEqualTo(tolerance, all, $"{name}: deviation {all:G3} at {where} > {tolerance:G3} ({tol.GetProperty("why").GetString()})");
    }

    private static void CheckGroups(JsonElement expected, IOptimizer optimizer)
    {
        Assert.HasCount(expected.GetArrayLength(), optimizer.ParamGroups, "number of parameter groups");
        for (var i = 0; i < optimizer.ParamGroups.Count; i++)
            CollectionAssert.AreEqual(expected[i].GetProperty("params").EnumerateArray().Select(x => x.GetString()).ToArray(),
                optimizer.ParamGroups[i].Names.ToArray(), $"group {i} members");
    }

    /// <summary>Checks the final state's structure; its values too when <paramref name="deviation"/> is given.</summary>
    private static void CheckState(JsonElement expected, OptimizerState actual, Deviation? deviation)
    {
        var ids = expected.EnumerateObject().Select(p => long.Parse(p.Name)).Order().ToArray();
        CollectionAssert.AreEqual(ids, actual.State.Keys.Order().ToArray(), "parameters with state");
        foreach (var p in expected.EnumerateObject())
        {
            var entries = actual.State[long.Parse(p.Name)];
            CollectionAssert.AreEquivalent(p.Value.EnumerateObject().Select(e => e.Name).ToArray(), entries.Keys.ToArray(), $"state keys of parameter {p.Name}");
            foreach (var e in p.Value.EnumerateObject())
            {
                var where = $"state[{p.Name}].{e.Name}";
                switch (entries[e.Name])
                {
                    case ITensor t:
                        deviation?.Add(where, t.ToFloatArray(), e.Value.ValueKind == JsonValueKind.Object ? SuiteGolden.Floats(e.Value) : [(float)e.Value.GetDouble()]);
                        break;
                    case ITensor[] list:
                        Assert.HasCount(e.Value.GetArrayLength(), list, where);
                        for (var i = 0; i < list.Length; i++) deviation?.Add($"{where}[{i}]", list[i].ToFloatArray(), SuiteGolden.Floats(e.Value[i]));
                        break;
                    // Counters (LBFGS's func_evals, n_iter) as relative deviations: a chaotic run's differ, and say by how much.
                    case long l when deviation != null: deviation.Add(where, [(float)l], [(float)e.Value.GetDouble()]); break;
                    case long: break;
                    case double d:
                        var ed = e.Value.ValueKind == JsonValueKind.Object ? SuiteGolden.Floats(e.Value)[0] : e.Value.GetDouble();
                        deviation?.Add(where, [(float)d], [(float)ed]);
                        break;
                    case null: Assert.AreEqual(JsonValueKind.Null, e.Value.ValueKind, where); break;
                    default: Assert.Fail($"{where}: unexpected {entries[e.Name]!.GetType().Name}"); break;
                }
            }
        }
    }
}
