using MLLrSched.Schedules;
using MLLrSched.Specs;

namespace MLLrSched.Trainers.Tests.Schedules;

/// <summary>Bad settings fail at construction naming the setting and what is valid.</summary>
[TestClass]
public class ValidationTests
{
    private static void Fails<T>(Func<object> make, params string[] fragments) where T : Exception
    {
        var e = Assert.Throws<T>(() => make());
        foreach (var f in fragments) StringAssert.Contains(e.Message, f);
    }

    [TestMethod]
    public void ConstructorsNameTheSettingAndRange()
    {
        Fails<ArgumentOutOfRangeException>(() => new CosineAnnealingLR(0), "T_max must be ≥ 1, got 0");
        Fails<ArgumentOutOfRangeException>(() => new CosineAnnealingLR(10, -1), "eta_min must be ≥ 0");
        Fails<ArgumentOutOfRangeException>(() => new StepLR(0), "step_size must be ≥ 1, got 0");
        Fails<ArgumentOutOfRangeException>(() => new MultiStepLR(new long[] { 30, 10 }), "milestones must be strictly increasing", "10 after 30");
        Fails<ArgumentOutOfRangeException>(() => new MultiStepLR(new long[] { 5, 5 }), "strictly increasing");
        Fails<ArgumentOutOfRangeException>(() => new ConstantLR(1.5), "factor must be in (0, 1], got 1.5");
        Fails<ArgumentOutOfRangeException>(() => new LinearLR(0), "start_factor must be in (0, 1]");
        Fails<ArgumentOutOfRangeException>(() => new ExponentialLR(-0.5), "gamma must be ≥ 0");
        Fails<ArgumentOutOfRangeException>(() => new PolynomialLR(0), "total_iters must be ≥ 1");
        Fails<ArgumentOutOfRangeException>(() => new CosineAnnealingWarmRestarts(0), "T_0 must be ≥ 1");
        Fails<ArgumentOutOfRangeException>(() => new CosineAnnealingWarmRestarts(5, 0), "T_mult must be ≥ 1");
        Fails<ArgumentOutOfRangeException>(() => new OneCycleLR(0.1, totalSteps: 0), "total_steps must be ≥ 1, got 0");
        Fails<ArgumentOutOfRangeException>(() => new OneCycleLR(0.1, epochs: 0, stepsPerEpoch: 10), "epochs must be ≥ 1");
        Fails<ArgumentException>(() => new OneCycleLR(0.1), "give total_steps, or both epochs and steps_per_epoch");
        Fails<ArgumentOutOfRangeException>(() => new OneCycleLR(-0.1, totalSteps: 10), "max_lr must be ≥ 0");
        Fails<ArgumentOutOfRangeException>(() => new OneCycleLR(0.1, totalSteps: 10, pctStart: 1.5), "pct_start must be in [0, 1]");
        Fails<ArgumentException>(() => new OneCycleLR(0.1, totalSteps: 10, pctStart: 0.1), "zero length");
        Fails<ArgumentOutOfRangeException>(() => new OneCycleLR(0.1, totalSteps: 10, divFactor: 0), "div_factor must be > 0");
        Fails<ArgumentOutOfRangeException>(() => new CyclicLR(-1.0, 0.1), "base_lr must be ≥ 0");
        Fails<ArgumentOutOfRangeException>(() => new CyclicLR(0.01, 0.1, stepSizeUp: 0), "step_size_up must be > 0");
        Fails<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(factor: 1.0), "factor must be in [0, 1), got 1");
        Fails<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(patience: -1), "patience must be ≥ 0");
        Fails<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(minLr: new[] { 0.1, -0.1 }), "min_lr must be ≥ 0");
        Fails<ArgumentException>(() => new SequentialLR(new Schedule[] { new StepLR(3), new StepLR(4) }, Array.Empty<long>()),
            "expected 1 milestones (one fewer than the 2 schedulers), got 0");
        Fails<ArgumentOutOfRangeException>(() => new SequentialLR(new Schedule[] { new StepLR(3), new StepLR(4) }, new long[] { 0 }), "milestones must be whole numbers ≥ 1");
        var s = new StepLR(3);
        Fails<ArgumentException>(() => new ChainedScheduler(new Schedule[] { s, s }), "same schedule instance appears twice");
        Fails<ArgumentOutOfRangeException>(() => HuggingFace.Linear(-1, 10), "num_warmup_steps must be ≥ 0");
        Fails<ArgumentOutOfRangeException>(() => HuggingFace.Polynomial(10, 10), "num_training_steps must be ≥ 11");
        Fails<ArgumentException>(() => HuggingFace.CosineWithMinLr(1, 10), "exactly one of min_lr and min_lr_rate");
        Fails<ArgumentException>(() => HuggingFace.WarmupStableDecay(10, 10), "give num_training_steps or num_stable_steps");
        Fails<ArgumentOutOfRangeException>(() => Classic.Noam(0), "model_size must be ≥ 1");
        Fails<ArgumentOutOfRangeException>(() => Classic.BertWarmupLinear(100, 1.0), "warmup must be in [0, 1)");
        Fails<ArgumentOutOfRangeException>(() => Warmup.Timm(HuggingFace.Constant(), 0), "warmup_t must be > 0");
        Fails<ArgumentException>(() => new Cycles(new ExponentialLR(0.9)), "no natural cycle length; set t_initial");
        Fails<ArgumentException>(() => new Cycles(new ReduceLROnPlateau()), "reacts to a metric");
        Fails<ArgumentOutOfRangeException>(() => new Noise(HuggingFace.Constant(), 10, 5), "end > start");
        Fails<ArgumentOutOfRangeException>(() => new Noise(HuggingFace.Constant(), 0, noisePct: 0), "noise_pct must be > 0");
    }

    [TestMethod]
    public void BindingChecksGroupsAndBaseValues()
    {
        Fails<ArgumentOutOfRangeException>(() => new Scheduler(FakeOptimizer.Sgd(-0.1), new StepLR(3)), "lr of parameter group 0 must be ≥ 0 and finite, got -0.1");
        Fails<ArgumentException>(() => new Scheduler(FakeOptimizer.Sgd(0.1, 0.2), new OneCycleLR(new[] { 0.1, 0.2, 0.3 }, totalSteps: 10)),
            "max_lr has 3 values but the optimizer has 2 parameter groups");
        Fails<ArgumentException>(() => new Scheduler(FakeOptimizer.Sgd(0.1), new LambdaLR(new Func<double, double>[] { t => 1, t => 2 })),
            "expected 1 lr_lambdas");
        Fails<ArgumentOutOfRangeException>(() => new Scheduler(FakeOptimizer.Sgd(0.1), new CyclicLR(0.1, 0.01)), "max_lr must be ≥ base_lr");
        // Both cosine-to-a-floor schedules turn min_lr into a fraction of each group's lr, so an lr of 0 is refused.
        Fails<ArgumentException>(() => new Scheduler(FakeOptimizer.Sgd(0.1, 0.0), HuggingFace.CosineWithMinLr(2, 10, minLr: 0.01)),
            "cosine_with_min_lr: min_lr needs a non-zero lr to divide by, but parameter group 1 has lr 0; use min_lr_rate");
        Fails<ArgumentException>(() => new Scheduler(FakeOptimizer.Sgd(0.0), HuggingFace.CosineWarmupWithMinLr(2, 10, minLr: 0.01)),
            "cosine_warmup_with_min_lr: min_lr needs a non-zero lr to divide by, but parameter group 0 has lr 0");
        Fails<ArgumentException>(() => HuggingFace.CosineWarmupWithMinLr(1, 10), "exactly one of min_lr and min_lr_rate");
        var noMomentum = new FakeOptimizer(new Dictionary<string, double> { ["lr"] = 0.1 });
        Fails<ArgumentException>(() => new Scheduler(noMomentum, new OneCycleLR(0.1, totalSteps: 10)),
            "cycles momentum, but parameter group 0 has neither 'beta1' nor 'momentum'", "cycle_momentum to false");
        _ = new Scheduler(noMomentum, new OneCycleLR(0.1, totalSteps: 10, cycleMomentum: false));
        Fails<ArgumentException>(() => new Scheduler(FakeOptimizer.Sgd(0.1), new[] { new ScheduleBinding(new StepLR(3), "weight_decay") }),
            "drives 'weight_decay', but parameter group 0 has no such hyperparameter. It has: lr, momentum");
        Fails<ArgumentException>(() => new Scheduler(FakeOptimizer.Sgd(0.1), new[] { new ScheduleBinding(new StepLR(3)), new ScheduleBinding(new StepLR(4)) }),
            "Two schedules drive 'lr'");
        Fails<ArgumentException>(() => new Scheduler(FakeOptimizer.Sgd(0.1), new StepLR(3), new SchedulerOptions { LastEpoch = 5 }),
            "needs 'initial_lr' in every parameter group");
        Fails<ArgumentOutOfRangeException>(() => new Scheduler(FakeOptimizer.Sgd(0.1), new StepLR(3), new SchedulerOptions { LastEpoch = -2 }),
            "last_epoch must be ≥ -1");
        Fails<ArgumentOutOfRangeException>(() => new Scheduler(FakeOptimizer.Sgd(1e-8), HuggingFace.Polynomial(1, 10)),
            "lr_end (1E-07) must be smaller than the initial lr (1E-08) of parameter group 0");
    }

    [TestMethod]
    public void OneCyclePastItsEndSaysWhatToChange()
    {
        var opt = FakeOptimizer.Sgd(0.1);
        var s = new Scheduler(opt, new OneCycleLR(0.1, epochs: 2, stepsPerEpoch: 5));
        for (var i = 0; i < 10; i++) { opt.Step(); s.Step(); }
        Assert.AreEqual(10, s.T);
        opt.Step();
        var e = Assert.ThrowsExactly<InvalidOperationException>(s.Step);
        StringAssert.Contains(e.Message, "stepped to step 11, past the end of its cycle (epochs × steps_per_epoch = 2 × 5 = 10)");
        StringAssert.Contains(e.Message, "set total_steps (or epochs × steps_per_epoch) to at least the number of optimizer steps");
    }

    [TestMethod]
    public void MetricScheduleWithoutMetricSaysHowToStep()
    {
        var opt = FakeOptimizer.Sgd(0.1);
        var s = new Scheduler(opt, new ReduceLROnPlateau());
        opt.Step();
        var e = Assert.ThrowsExactly<InvalidOperationException>(s.Step);
        StringAssert.Contains(e.Message, "ReduceLROnPlateau reacts to a metric, so every step needs one: call Step(metric)");
    }

    [TestMethod]
    public void SpecErrorsListValidTypesAndKeys()
    {
        var e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "CosineAnealingLR", "T_max": 3}"""));
        StringAssert.Contains(e.Message, "Did you mean 'CosineAnnealingLR'?");
        StringAssert.Contains(e.Message, "OneCycleLR");
        StringAssert.Contains(e.Message, "warmup_stable_decay");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "StepLR", "step_size": 3, "gama": 0.5}"""));
        StringAssert.Contains(e.Message, "'gama' (did you mean 'gamma'?)");
        StringAssert.Contains(e.Message, "Valid keys: cycle_decay");
        StringAssert.Contains(e.Message, "step_size");
        StringAssert.Contains(e.Message, "warmup_t");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "CosineAnnealingLR", "T_maxx": 3}"""));
        StringAssert.Contains(e.Message, "Missing 'T_max'");
        StringAssert.Contains(e.Message, "found 'T_maxx'");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "CosineAnnealingLR", "T_max": 0}"""));
        StringAssert.Contains(e.Message, "T_max must be ≥ 1, got 0");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 0}"""));
        StringAssert.Contains(e.Message, "total_steps must be ≥ 1, got 0");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "MultiStepLR", "milestones": [50, 20]}"""));
        StringAssert.Contains(e.Message, "milestones must be strictly increasing");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 10, "anneal_strategy": "cosine"}"""));
        StringAssert.Contains(e.Message, "'cosine' is not one of: 'cos', 'linear'");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "SequentialLR", "schedulers": [{"type": "StepLR", "step_size": 2, "param_group_field": "lr"}], "milestones": []}"""));
        StringAssert.Contains(e.Message, "Unknown key 'param_group_field'");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "LambdaLR", "lr_lambda": "import os"}"""));
        StringAssert.Contains(e.Message, "Invalid 'lr_lambda'");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "constant", "warmup_lr_init": 0.1}"""));
        StringAssert.Contains(e.Message, "'warmup_lr_init' needs warmup_t > 0");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "constant", "warmup_t": 5, "warmup_iters": 5}"""));
        StringAssert.Contains(e.Message, "either timm's warmup");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "constant", "noise_pct": 0.1}"""));
        StringAssert.Contains(e.Message, "'noise_pct' needs noise_range_t");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("""{"type": "ExponentialLR", "gamma": 0.9, "cycle_limit": 3}"""));
        StringAssert.Contains(e.Message, "set t_initial");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.Parse("""{"type": "StepLR", "step_size": 2, "interval": "batch"}"""));
        StringAssert.Contains(e.Message, "'batch' is not one of: 'step', 'epoch'");
        e = Assert.ThrowsExactly<SpecException>(() => ScheduleSpecs.CreateSchedule("{not json"));
        StringAssert.Contains(e.Message, "not valid JSON");
    }
}
