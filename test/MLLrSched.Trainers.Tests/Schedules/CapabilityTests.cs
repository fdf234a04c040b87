using System.Text.Json.Nodes;
using MLLrSched.Schedules;

namespace MLLrSched.Trainers.Tests.Schedules;

/// <summary>Metric, momentum, state and torch chaining are optional capabilities: a schedule has them or not, and
/// wrappers and composites have exactly those of what they hold.</summary>
[TestClass]
public class CapabilityTests
{
    private static string Has(Schedule s) => string.Join(",", new[]
    {
        s.TryGet<IMomentumSchedule>() != null ? "momentum" : null,
        s.TryGet<IMetricSchedule>() != null ? "metric" : null,
        s.TryGet<IStatefulSchedule>() != null ? "state" : null,
        s.TryGet<IChainableSchedule>() != null ? "chain" : null,
    }.OfType<string>());

    [TestMethod]
    public void LeafSchedulesHaveWhatTheyImplement()
    {
        Assert.AreEqual("chain", Has(new StepLR(3)));
        Assert.AreEqual("", Has(new LambdaLR(t => 1)));
        Assert.AreEqual("", Has(HuggingFace.Cosine(10, 100)));
        Assert.AreEqual("state,chain", Has(new MultiplicativeLR(t => 0.9)));
        Assert.AreEqual("metric,state,chain", Has(new ReduceLROnPlateau()));
        Assert.AreEqual("momentum", Has(new OneCycleLR(0.1, totalSteps: 10)));
        Assert.AreEqual("", Has(new OneCycleLR(0.1, totalSteps: 10, cycleMomentum: false)), "a setting can switch a capability off");
        Assert.AreEqual("momentum", Has(new CyclicLR(0.01, 0.1)));
        Assert.AreEqual("", Has(new CyclicLR(0.01, 0.1, cycleMomentum: false)));
        Assert.IsTrue(new MultiplicativeLR(t => 0.9).TryGet<IChainableSchedule>()!.ContinuesFromCurrentValue);
        Assert.IsFalse(new StepLR(3).TryGet<IChainableSchedule>()!.ContinuesFromCurrentValue);
    }

    [TestMethod]
    public void WrappersHaveTheirInnersCapabilitiesButNotItsChaining()
    {
        Assert.AreEqual("", Has(Warmup.Timm(new StepLR(3), 5)));
        Assert.AreEqual("metric,state", Has(Warmup.Timm(new ReduceLROnPlateau(), 5)));
        Assert.AreEqual("momentum", Has(new Cycles(new OneCycleLR(0.1, totalSteps: 10), cycleLimit: 2)));
        Assert.AreEqual("", Has(new Cycles(new OneCycleLR(0.1, totalSteps: 10, cycleMomentum: false), cycleLimit: 2)));
        Assert.AreEqual("state", Has(new Noise(new MultiplicativeLR(t => 0.9), 0)));
    }

    [TestMethod]
    public void CompositesHaveTheirChildrensCapabilities()
    {
        Assert.AreEqual("chain", Has(new SequentialLR(new Schedule[] { new LinearLR(), new StepLR(3) }, new long[] { 5 })));
        Assert.AreEqual("metric,state,chain", Has(new SequentialLR(new Schedule[] { new LinearLR(), new ReduceLROnPlateau() }, new long[] { 5 })));
        Assert.AreEqual("momentum,chain", Has(new SequentialLR(new Schedule[] { new LinearLR(), new OneCycleLR(0.1, totalSteps: 10) }, new long[] { 5 })));
        Assert.AreEqual("state,chain", Has(new SequentialLR(new Schedule[] { new LinearLR(), new MultiplicativeLR(t => 0.9) }, new long[] { 5 })),
            "a later stage continuing from the current value needs state");
        Assert.AreEqual("state,chain", Has(new ChainedScheduler(new Schedule[] { new LinearLR(), new StepLR(3) })));
        Assert.AreEqual("momentum,metric,state,chain", Has(new ChainedScheduler(new Schedule[] { new CyclicLR(0.01, 0.1), new ReduceLROnPlateau() })));
    }

    [TestMethod]
    public void MomentumWithoutTheCapabilitySaysSo()
    {
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => new OneCycleLR(0.1, totalSteps: 10, cycleMomentum: false).Momentum(3, 0));
        StringAssert.Contains(e.Message, "cycle_momentum = false");
        var opt = FakeOptimizer.Sgd(0.1);
        var s = new Scheduler(opt, new StepLR(3));
        Assert.IsNull(s.LastMomentum);
        Assert.IsFalse(s.UsesMetric);
    }

    /// <summary>A schedule of one's own with a metric and state: halves the value whenever the metric rises.</summary>
    private sealed class HalveOnRise : Schedule, IMetricSchedule, IStatefulSchedule
    {
        private double _last = double.PositiveInfinity;
        private int _halvings;

        public override string TypeName => "HalveOnRise";
        public override void Bind(IReadOnlyList<double> baseValues) => (_last, _halvings) = (double.PositiveInfinity, 0);
        public override double Value(double t, int group, double baseValue) => baseValue * Math.Pow(0.5, _halvings);

        public void Observe(double t, double metric)
        {
            if (metric > _last) _halvings++;
            _last = metric;
        }

        public JsonObject? SaveState() => new() { ["last"] = StateJson.Number(_last), ["halvings"] = _halvings };

        public void LoadState(JsonObject? state)
        {
            _last = StateJson.ReadNumber(StateJson.Get(state, "last", TypeName));
            _halvings = state!["halvings"]!.GetValue<int>();
        }
    }

    [TestMethod]
    public void TheSchedulerServesCapabilitiesOfSchedulesItDoesNotKnow()
    {
        var metrics = new[] { 1.0, 0.9, 1.1, 1.0, 1.2, 0.8 };
        var opt = FakeOptimizer.Sgd(1.0);
        var s = new Scheduler(opt, Warmup.Timm(new HalveOnRise(), 1));
        Assert.IsTrue(s.UsesMetric);
        var seen = new List<double>();
        string? saved = null;
        for (var k = 0; k < metrics.Length; k++)
        {
            opt.Step();
            s.Step(metrics[k]);
            seen.Add(opt.ParamGroups[0].Lr);
            if (k == 2) saved = s.SaveState().ToJson();
        }
        CollectionAssert.AreEqual(new[] { 1.0, 1.0, 0.5, 0.5, 0.25, 0.25 }, seen);

        var opt2 = FakeOptimizer.Sgd(1.0);
        var resumed = new Scheduler(opt2, Warmup.Timm(new HalveOnRise(), 1));
        resumed.LoadState(SchedulerState.FromJson(saved!));
        for (var k = 3; k < metrics.Length; k++) { opt2.Step(); resumed.Step(metrics[k]); }
        Assert.AreEqual(0.25, opt2.ParamGroups[0].Lr);
    }
}
