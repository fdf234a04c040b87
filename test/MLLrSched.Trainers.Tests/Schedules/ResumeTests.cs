using System.Text.Json.Nodes;
using MLLrSched.Schedules;

namespace MLLrSched.Trainers.Tests.Schedules;

/// <summary>Save after 500 steps, rebuild from the spec, load, continue: identical to an uninterrupted run, bit for bit.</summary>
[TestClass]
public class ResumeTests
{
    private const int Total = 1000, Split = 500;

    public static IEnumerable<object[]> Specs => new[]
    {
        """{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 1000}""",
        """{"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 70, "mode": "exp_range", "gamma": 0.999}""",
        """{"type": "ReduceLROnPlateau", "patience": 3, "factor": 0.5, "cooldown": 2}""",
        """{"type": "ReduceLROnPlateau", "mode": "max", "patience": 2, "warmup_t": 20, "warmup_lr_init": 0.001, "noise_range_t": 100, "noise_pct": 0.1}""",
        """{"type": "MultiplicativeLR", "lr_lambda": "0.999 if epoch % 7 else 0.98"}""",
        """{"type": "ChainedScheduler", "schedulers": [{"type": "LinearLR", "start_factor": 0.1, "total_iters": 50}, {"type": "CosineAnnealingLR", "T_max": 300, "eta_min": 0.001}]}""",
        """{"type": "ChainedScheduler", "schedulers": [{"type": "ExponentialLR", "gamma": 0.999}, {"type": "ReduceLROnPlateau", "patience": 4}]}""",
        """{"type": "SequentialLR", "schedulers": [{"type": "LinearLR", "start_factor": 0.1, "total_iters": 30}, {"type": "ReduceLROnPlateau", "patience": 5, "factor": 0.7}], "milestones": [30]}""",
        """{"type": "SequentialLR", "schedulers": [{"type": "ReduceLROnPlateau", "patience": 2}, {"type": "MultiplicativeLR", "lr_lambda": "0.997"}], "milestones": [400]}""",
        """{"type": "CosineAnnealingLR", "T_max": 200, "eta_min": 1e-4, "cycle_mul": 1.5, "cycle_decay": 0.8, "cycle_limit": 4, "k_decay": 1.3, "warmup_t": 25, "warmup_lr_init": 1e-5, "warmup_prefix": true, "noise_range_t": [100, 900], "noise_type": "normal"}""",
        """{"type": "cosine", "num_warmup_steps": 100, "num_training_steps": 1000}""",
        """[{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 1000, "three_phase": true}, {"type": "CosineAnnealingLR", "T_max": 1000, "param_group_field": "weight_decay"}]""",
    }.Select(s => new object[] { s });

    private static double Metric(int k) => 1.0 / (1 + 0.01 * k) + 0.05 * Math.Sin(k * 0.37) + (k % 97 == 0 ? 0.3 : 0);

    private static (Scheduler, FakeOptimizer) Build(string spec)
    {
        var opt = new FakeOptimizer(new Dictionary<string, double> { ["lr"] = 0.1, ["momentum"] = 0.9, ["weight_decay"] = 0.01 },
                                    new Dictionary<string, double> { ["lr"] = 0.05, ["momentum"] = 0.8, ["weight_decay"] = 0.0 });
        var specs = ScheduleSpecs.ParseMany(spec);
        return (new Scheduler(opt, specs.Select(s => s.ToBinding()), new SchedulerOptions { Warn = null }), opt);
    }

    private static List<double> Snapshot(FakeOptimizer opt) =>
        opt.ParamGroups.SelectMany(g => g.Hyperparameters.OrderBy(p => p.Key).Select(p => p.Value)).ToList();

    private static void Advance(Scheduler s, FakeOptimizer opt, int k)
    {
        opt.Step();
        if (s.UsesMetric) s.Step(Metric(k)); else s.Step();
    }

    [TestMethod]
    [DynamicData(nameof(Specs))]
    public void ResumeContinuesBitForBit(string spec)
    {
        var (a, optA) = Build(spec);
        var uninterrupted = new List<List<double>> { Snapshot(optA) };
        for (var k = 1; k < Total; k++)
        {
            Advance(a, optA, k);
            uninterrupted.Add(Snapshot(optA));
        }

        var (b, optB) = Build(spec);
        for (var k = 1; k <= Split; k++) Advance(b, optB, k);
        var saved = b.SaveState().ToJson();
        Assert.IsInstanceOfType<JsonObject>(JsonNode.Parse(saved), "state is plain JSON");

        var (c, optC) = Build(spec);
        c.LoadState(SchedulerState.FromJson(saved));
        CollectionAssert.AreEqual(uninterrupted[Split], Snapshot(optC), "values right after loading");
        for (var k = Split + 1; k < Total; k++)
        {
            Advance(c, optC, k);
            var got = Snapshot(optC);
            for (var i = 0; i < got.Count; i++)
                Assert.AreEqual(BitConverter.DoubleToInt64Bits(uninterrupted[k][i]), BitConverter.DoubleToInt64Bits(got[i]),
                    $"step {k}, value {i}: {uninterrupted[k][i]:R} vs {got[i]:R}");
        }
        Assert.AreEqual(a.T, c.T);
        Assert.AreEqual(a.StepCount, c.StepCount);
    }

    [TestMethod]
    public void PlateauStateSurvivesJsonIncludingInfiniteBest()
    {
        var (s, _) = Build("""{"type": "ReduceLROnPlateau"}""");
        var json = s.SaveState().ToJson();
        StringAssert.Contains(json, "\"inf\"");
        Assert.AreEqual(json, SchedulerState.FromJson(json).ToJson());
    }

    [TestMethod]
    public void LoadingStateFromAnotherShapeFailsClearly()
    {
        var (s, _) = Build("""{"type": "ReduceLROnPlateau"}""");
        var (other, _) = Build("""[{"type": "StepLR", "step_size": 3}, {"type": "StepLR", "step_size": 3, "param_group_field": "weight_decay"}]""");
        var e = Assert.ThrowsExactly<ArgumentException>(() => s.LoadState(other.SaveState()));
        StringAssert.Contains(e.Message, "holds 2 schedules but this scheduler has 1");
        var (chain, _) = Build("""{"type": "ChainedScheduler", "schedulers": [{"type": "ExponentialLR", "gamma": 0.9}]}""");
        var wrong = new SchedulerState { Schedules = { new JsonObject { ["x"] = 1 } } };
        var fe = Assert.ThrowsExactly<FormatException>(() => chain.LoadState(wrong));
        StringAssert.Contains(fe.Message, "ChainedScheduler state has no 't'");
    }
}
