using MLLrSched.Schedules;

namespace MLLrSched.Trainers.Tests.Schedules;

/// <summary>The driver: step order, intervals, fractional epochs, targets other than lr.</summary>
[TestClass]
public class SchedulerTests
{
    [TestMethod]
    public void ConstructionWritesTheFirstValueAndInitialLr()
    {
        var opt = FakeOptimizer.Sgd(0.1, 0.02);
        var s = new Scheduler(opt, new ExponentialLR(0.5));
        Assert.AreEqual(0.1, opt.ParamGroups[0].Lr);
        Assert.AreEqual(0.1, opt.ParamGroups[0]["initial_lr"]);
        Assert.AreEqual(0.02, opt.ParamGroups[1]["initial_lr"]);
        opt.Step();
        s.Step();
        CollectionAssert.AreEqual(new[] { 0.05, 0.01 }, s.LastLr.ToArray());
        Assert.AreEqual(0.05, opt.ParamGroups[0].Lr);
    }

    [TestMethod]
    public void SteppingBeforeTheOptimizerWarnsOnceByDefault()
    {
        var warnings = new List<string>();
        var opt = FakeOptimizer.Sgd(0.1);
        var s = new Scheduler(opt, new StepLR(1, 0.5), new SchedulerOptions { Warn = warnings.Add });
        s.Step();
        s.Step();
        Assert.AreEqual(1, warnings.Count);
        StringAssert.Contains(warnings[0], "before the optimizer's first step. Call optimizer.Step() before scheduler.Step()");
        Assert.AreEqual(0.025, opt.ParamGroups[0].Lr, 1e-15, "the warning does not stop the step");
    }

    [TestMethod]
    public void StrictStepOrderThrows()
    {
        var opt = FakeOptimizer.Sgd(0.1);
        var s = new Scheduler(opt, new StepLR(1, 0.5), new SchedulerOptions { StrictStepOrder = true });
        var e = Assert.ThrowsExactly<InvalidOperationException>(s.Step);
        StringAssert.Contains(e.Message, "skips them, running the whole schedule one step early");
        Assert.AreEqual(0.1, opt.ParamGroups[0].Lr, "nothing changed");
        var ok = new Scheduler(opt, new StepLR(1, 0.5), new SchedulerOptions { StrictStepOrder = true });
        opt.Step();
        ok.Step();
        Assert.AreEqual(0.05, opt.ParamGroups[0].Lr, 1e-15);
    }

    [TestMethod]
    public void IntervalDecidesWhatAdvancesTime()
    {
        var opt = FakeOptimizer.Sgd(1.0);
        var perEpoch = new Scheduler(opt, new StepLR(1, 0.5), new SchedulerOptions { Interval = StepInterval.Epoch, Warn = null });
        for (var i = 0; i < 5; i++) { opt.Step(); perEpoch.OnOptimizerStep(); }
        Assert.AreEqual(0, perEpoch.T, "optimizer steps do not move an epoch schedule");
        perEpoch.OnEpochEnd();
        Assert.AreEqual(1, perEpoch.T);
        Assert.AreEqual(0.5, opt.ParamGroups[0].Lr);

        var opt2 = FakeOptimizer.Sgd(1.0);
        var perStep = new Scheduler(opt2, new StepLR(1, 0.5), new SchedulerOptions { Warn = null });
        for (var i = 0; i < 3; i++) { opt2.Step(); perStep.OnOptimizerStep(); }
        perStep.OnEpochEnd();
        Assert.AreEqual(3, perStep.T);
    }

    [TestMethod]
    public void FractionalEpochsFollowTheOptimizerWithinEachEpoch()
    {
        var opt = FakeOptimizer.Sgd(0.1);
        var sgdr = new CosineAnnealingWarmRestarts(2, 2, 0.001);
        var s = new Scheduler(opt, sgdr, new SchedulerOptions { Interval = StepInterval.Epoch, StepsPerEpoch = 4 });
        var reference = new CosineAnnealingWarmRestarts(2, 2, 0.001);
        for (var epoch = 0; epoch < 5; epoch++)
        {
            for (var i = 1; i <= 4; i++)
            {
                opt.Step();
                s.OnOptimizerStep();
                var t = epoch + i / 4.0;
                Assert.AreEqual(t, s.T, 1e-12);
                Assert.AreEqual(reference.Value(t, 0, 0.1), opt.ParamGroups[0].Lr);
            }
            s.OnEpochEnd();
            Assert.AreEqual(epoch + 1, s.T);
        }
    }

    [TestMethod]
    public void DrivesWeightDecayAndBeta1()
    {
        var opt = new FakeOptimizer(new Dictionary<string, double> { ["lr"] = 0.001, ["beta1"] = 0.9, ["beta2"] = 0.999, ["weight_decay"] = 0.1 });
        var s = new Scheduler(opt, new[]
        {
            new ScheduleBinding(new OneCycleLR(0.01, totalSteps: 100, baseMomentum: 0.85, maxMomentum: 0.95)),
            new ScheduleBinding(new CosineAnnealingLR(100), "weight_decay"),
        });
        Assert.AreEqual(0.95, opt.ParamGroups[0]["beta1"], "OneCycleLR cycles beta1 of Adam-style groups");
        Assert.AreEqual(0.999, opt.ParamGroups[0]["beta2"]);
        Assert.AreEqual(0.1, opt.ParamGroups[0]["initial_weight_decay"]);
        for (var i = 0; i < 50; i++) { opt.Step(); s.Step(); }
        Assert.AreEqual(0.05, opt.ParamGroups[0]["weight_decay"], 1e-12);
        Assert.AreEqual(0.05, s.LastValues("weight_decay")[0], 1e-12);
        Assert.IsTrue(opt.ParamGroups[0]["beta1"] > 0.85 && opt.ParamGroups[0]["beta1"] < 0.95);
        Assert.AreEqual(opt.ParamGroups[0]["beta1"], s.LastMomentum![0]);
    }

    [TestMethod]
    public void CyclicMomentumTargetsMomentumOfSgdGroups()
    {
        var opt = FakeOptimizer.Sgd(0.1);
        var s = new Scheduler(opt, new CyclicLR(0.01, 0.1, stepSizeUp: 10));
        Assert.AreEqual(0.9, opt.ParamGroups[0]["momentum"]);
        for (var i = 0; i < 10; i++) { opt.Step(); s.Step(); }
        Assert.AreEqual(0.1, opt.ParamGroups[0].Lr, 1e-15);
        Assert.AreEqual(0.8, opt.ParamGroups[0]["momentum"], 1e-15);
    }

    [TestMethod]
    public void LastEpochResumesFromInitialLr()
    {
        var fresh = FakeOptimizer.Sgd(0.1);
        var a = new Scheduler(fresh, new CosineAnnealingLR(100));
        for (var i = 0; i < 30; i++) { fresh.Step(); a.Step(); }
        var resumed = new FakeOptimizer(new Dictionary<string, double> { ["lr"] = fresh.ParamGroups[0].Lr, ["initial_lr"] = 0.1, ["momentum"] = 0.9 });
        var b = new Scheduler(resumed, new CosineAnnealingLR(100), new SchedulerOptions { LastEpoch = 30 });
        fresh.Step();
        a.Step();
        Assert.AreEqual(31, b.T);
        Assert.AreEqual(a.LastLr[0], b.LastLr[0]);
    }

    [TestMethod]
    public void WarmupComposesWithReduceLROnPlateau()
    {
        // The timm form: metrics during warmup are ignored; the plateau starts from the base value afterwards.
        var opt = FakeOptimizer.Sgd(0.1);
        var s = new Scheduler(opt, ScheduleSpecs.CreateSchedule(
            """{"type": "ReduceLROnPlateau", "patience": 1, "factor": 0.5, "warmup_t": 4, "warmup_lr_init": 0.0}"""));
        var seen = new List<double> { opt.ParamGroups[0].Lr };
        for (var k = 1; k <= 10; k++) { opt.Step(); s.Step(1.0); seen.Add(opt.ParamGroups[0].Lr); }
        CollectionAssert.AreEqual(new[] { 0.0, 0.025, 0.05, 0.075, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025 }, seen.Select(v => Math.Round(v, 12)).ToArray());

        // The SequentialLR form: metrics go to the running stage.
        var opt2 = FakeOptimizer.Sgd(0.1);
        var seq = new Scheduler(opt2, new SequentialLR(new Schedule[] { new LinearLR(0.25, totalIters: 4), new ReduceLROnPlateau(patience: 1, factor: 0.5) }, new long[] { 4 }));
        var seen2 = new List<double> { opt2.ParamGroups[0].Lr };
        for (var k = 1; k <= 10; k++) { opt2.Step(); seq.Step(1.0); seen2.Add(opt2.ParamGroups[0].Lr); }
        CollectionAssert.AreEqual(new[] { 0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025 }, seen2.Select(v => Math.Round(v, 12)).ToArray());
    }

    [TestMethod]
    public void NoiseDependsOnlyOnSeedAndStep()
    {
        var a = new Noise(HuggingFace.Constant(), 0, noiseSeed: 5);
        var b = new Noise(HuggingFace.Constant(), 0, noiseSeed: 5);
        var forward = Enumerable.Range(0, 50).Select(t => a.Value(t, 0, 1.0)).ToArray();
        var backward = Enumerable.Range(0, 50).Reverse().Select(t => b.Value(t, 0, 1.0)).Reverse().ToArray();
        CollectionAssert.AreEqual(forward, backward);
        Assert.IsTrue(forward.All(v => Math.Abs(v - 1) < 0.67) && forward.Distinct().Count() > 40);
        var other = new Noise(HuggingFace.Constant(), 0, noiseSeed: 6);
        Assert.AreNotEqual(forward[3], other.Value(3, 0, 1.0));
    }

    [TestMethod]
    public void ChainedSchedulerCanBeEvaluatedOutOfOrder()
    {
        var chain = new ChainedScheduler(new Schedule[] { new LinearLR(0.1, totalIters: 10), new CosineAnnealingLR(20, 0.01) });
        chain.Bind(new[] { 0.5 });
        var forward = Enumerable.Range(0, 60).Select(t => chain.Value(t, 0, 0.5)).ToArray();
        var again = new ChainedScheduler(new Schedule[] { new LinearLR(0.1, totalIters: 10), new CosineAnnealingLR(20, 0.01) });
        again.Bind(new[] { 0.5 });
        Assert.AreEqual(forward[45], again.Value(45, 0, 0.5));
        Assert.AreEqual(forward[7], again.Value(7, 0, 0.5));
    }

    [TestMethod]
    public void FromJsonAppliesTheDriverKeys()
    {
        var opt = FakeOptimizer.Sgd(1.0);
        var s = Scheduler.FromJson(opt, """{"type": "StepLR", "step_size": 1, "gamma": 0.5, "interval": "epoch"}""", new SchedulerOptions { Warn = null });
        Assert.AreEqual(StepInterval.Epoch, s.Options.Interval);
        s.OnOptimizerStep();
        Assert.AreEqual(0, s.T);
        s.OnEpochEnd();
        Assert.AreEqual(0.5, opt.ParamGroups[0].Lr);
        var e = Assert.ThrowsExactly<MLLrSched.Specs.SpecException>(() => Scheduler.FromJson(FakeOptimizer.Sgd(1.0),
            """[{"type": "StepLR", "step_size": 1, "interval": "epoch"}, {"type": "StepLR", "step_size": 1, "interval": "step", "param_group_field": "momentum"}]"""));
        StringAssert.Contains(e.Message, "disagree on 'interval'");
    }
}
