using MLLrSched.Schedules;

namespace MLLrSched.Trainers.Tests.Schedules;

/// <summary>Join, Scale, WarmupThen, FromFactor/FromFunction and Named: small pure pieces that the Hugging Face schedules are
/// built from (their golden cases in GoldenParityTests guard the values).</summary>
[TestClass]
public class CompositionTests
{
    private static readonly double[] Times = Enumerable.Range(0, 80).Select(i => (double)i).Concat(new[] { 9.5, 10.25, 29.999, 30.0, 30.5 }).ToArray();

    [TestMethod]
    public void JoinAtBoundariesEqualsThePiecewiseDefinition()
    {
        var a = new LinearLR(0.1, totalIters: 10);
        var b = new CosineAnnealingLR(20, 0.01);
        var c = new ExponentialLR(0.9);
        var joined = Schedule.Join([10, 30], a, b, c);
        foreach (var t in Times)
        {
            var expected = t < 10 ? a.Value(t, 0, 0.5) : t < 30 ? b.Value(t - 10, 0, 0.5) : c.Value(t - 30, 0, 0.5);
            Assert.AreEqual(expected, joined.Value(t, 0, 0.5), 0.0, $"t = {t}");
        }
        Assert.AreEqual("join(LinearLR, CosineAnnealingLR, ExponentialLR)", joined.TypeName);
        Assert.IsNull(joined.Horizon, "open-ended when the last stage is");
        Assert.AreEqual(40.0, Schedule.Join([10, 30], a, b, new CosineAnnealingLR(10)).Horizon);
        Assert.AreEqual(20.0, Schedule.Join([], new CosineAnnealingLR(20)).Horizon);
    }

    [TestMethod]
    public void EqualBoundariesSkipAStage()
    {
        var joined = Schedule.Join([5, 5], Schedule.FromFactor(_ => 1), Schedule.FromFactor(_ => 2), Schedule.FromFactor(_ => 3));
        CollectionAssert.AreEqual(new[] { 1.0, 1.0, 3.0, 3.0 }, new[] { 0.0, 4.9, 5.0, 6.0 }.Select(t => joined.Value(t, 0, 1)).ToArray());
    }

    [TestMethod]
    public void JoinChecksItsArguments()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => Schedule.Join([10], new StepLR(3)));
        StringAssert.Contains(e.Message, "expected 0 boundaries (one fewer than the 1 schedules), got 1");
        var r = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Schedule.Join([10, 5], new StepLR(3), new StepLR(3), new StepLR(3)));
        StringAssert.Contains(r.Message, "boundaries must be non-decreasing, got 5 after 10");
        r = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Schedule.Join([-1], new StepLR(3), new StepLR(3)));
        StringAssert.Contains(r.Message, "boundaries must be ≥ 0 and finite, got -1");
    }

    [TestMethod]
    public void CompositionTakesPureSchedulesOnly()
    {
        // Joining or scaling would silently drop a metric, momentum or state; those belong in SequentialLR.
        var e = Assert.ThrowsExactly<ArgumentException>(() => Schedule.Join([10], new LinearLR(), new ReduceLROnPlateau()));
        StringAssert.Contains(e.Message, "Join composes pure schedules, but ReduceLROnPlateau reacts to a metric; use SequentialLR");
        e = Assert.ThrowsExactly<ArgumentException>(() => new OneCycleLR(0.1, totalSteps: 10).Scale(0.5));
        StringAssert.Contains(e.Message, "OneCycleLR cycles momentum");
        e = Assert.ThrowsExactly<ArgumentException>(() => Schedule.WarmupThen(5, new MultiplicativeLR(_ => 0.9)));
        StringAssert.Contains(e.Message, "MultiplicativeLR keeps state");
        _ = new OneCycleLR(0.1, totalSteps: 10, cycleMomentum: false).Scale(0.5);
    }

    [TestMethod]
    public void ScaleMultipliesEveryValue()
    {
        var cosine = new CosineAnnealingLR(50, 0.001);
        var half = cosine.Scale(0.5);
        foreach (var t in Times) Assert.AreEqual(cosine.Value(t, 0, 0.2) * 0.5, half.Value(t, 0, 0.2), 0.0);
        Assert.AreEqual(50.0, half.Horizon);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => cosine.Scale(-1));
    }

    [TestMethod]
    public void WarmupThenIsHuggingFacesWarmup()
    {
        // HF cosine = its warmup, then the cosine of the progress after the warmup.
        var composed = Schedule.WarmupThen(100, Schedule.FromFactor(tau => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 0.5 * 2.0 * (tau / 900.0)))), 900));
        var hf = HuggingFace.Cosine(100, 1000);
        for (var t = 0; t <= 1100; t++) Assert.AreEqual(hf.Value(t, 0, 0.3), composed.Value(t, 0, 0.3), 0.0, $"t = {t}");
        Assert.AreEqual(0.3 * 50 / 100, composed.Value(50, 0, 0.3), 0.0);
        Assert.AreEqual(1000.0, composed.Horizon);
        var plain = new StepLR(4);
        Assert.AreSame(plain, Schedule.WarmupThen(0, plain), "no warmup steps, no warmup");
    }

    [TestMethod]
    public void FunctionSeesTheBaseValue()
    {
        var toFloor = Schedule.FromFunction((t, b) => Math.Max(0.01, b - 0.01 * t), 100);
        Assert.AreEqual(0.45, toFloor.Value(5, 0, 0.5), 1e-15);
        Assert.AreEqual(0.01, toFloor.Value(99, 0, 0.5));
        Assert.AreEqual(0.5 * 0.25, Schedule.FromFactor(t => 1 / (1 + t)).Value(3, 0, 0.5));
    }

    [TestMethod]
    public void NamedKeepsValuesAndCapabilities()
    {
        var onecycle = new OneCycleLR(0.1, totalSteps: 100);
        var named = onecycle.Named("my-1cycle");
        Assert.AreEqual("my-1cycle", named.TypeName);
        Assert.AreEqual(onecycle.Value(37, 0, 1), named.Value(37, 0, 1));
        Assert.AreEqual(onecycle.Momentum(37, 0), named.TryGet<IMomentumSchedule>()!.Momentum(37, 0));
        Assert.IsNotNull(new StepLR(3).Named("s").TryGet<IChainableSchedule>(), "a name does not change how it chains");
    }

    [TestMethod]
    public void TheDocsExampleComposes()
    {
        // docs/schedules.md, "Composing schedules".
        var schedule = Schedule.Join([10_000], Schedule.WarmupThen(500, new CosineAnnealingLR(9_500)), Schedule.FromFactor(_ => 0.01));
        var halved = schedule.Scale(0.5);
        Assert.AreEqual(0.05, schedule.Value(250, 0, 0.1), 1e-17);
        Assert.AreEqual(0.1, schedule.Value(500, 0, 0.1));
        Assert.AreEqual(0.05, schedule.Value(500 + 9_500 / 2, 0, 0.1), 1e-15);
        Assert.AreEqual(0.001, schedule.Value(20_000, 0, 0.1));
        Assert.AreEqual(0.0005, halved.Value(20_000, 0, 0.1));
        Assert.IsNull(schedule.Horizon);
    }

    [TestMethod]
    public void HuggingFaceSchedulesKeepTheirNamesAndLengths()
    {
        Assert.AreEqual("cosine", HuggingFace.Cosine(10, 100).TypeName);
        Assert.AreEqual("linear", HuggingFace.Linear(0, 100).TypeName);
        Assert.AreEqual(100.0, HuggingFace.Cosine(10, 100).Horizon);
        Assert.AreEqual(100.0, HuggingFace.Polynomial(10, 100).Horizon);
        Assert.AreEqual(130.0, HuggingFace.WarmupStableDecay(10, 20, numStableSteps: 100).Horizon);
        Assert.AreEqual(100.0, HuggingFace.CosineWarmupWithMinLr(10, 100, minLrRate: 0.1).Horizon);
        Assert.IsNull(HuggingFace.ConstantWithWarmup(10).Horizon);
        Assert.IsNull(HuggingFace.InverseSqrt(10).Horizon);
        Assert.AreEqual(1000.0, Classic.BertWarmupLinear(1000).Horizon);
        // The timm cycle options repeat them over that length.
        var cycled = ScheduleSpecs.CreateSchedule("""{"type": "linear", "num_warmup_steps": 10, "num_training_steps": 100, "cycle_limit": 2}""");
        Assert.AreEqual(cycled.Value(5, 0, 1), cycled.Value(105, 0, 1));
    }
}
