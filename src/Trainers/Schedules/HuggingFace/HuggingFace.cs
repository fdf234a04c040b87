namespace MLLrSched.Schedules;

/// <summary>
/// The Hugging Face <c>transformers</c> schedules (<c>get_scheduler</c>'s names and arguments,
/// <c>src/transformers/optimization.py</c>), composed from <see cref="Schedule.WarmupThen"/>,
/// <see cref="Schedule.Join"/> and factor functions: each is a factor of the group's base value, as their LambdaLR
/// is. Warmups rise linearly from 0, factor = t / max(1, num_warmup_steps); "progress" is
/// (t − num_warmup_steps) / max(1, num_training_steps − num_warmup_steps).
/// </summary>
/// <remarks>Where Hugging Face reads the optimizer's <i>default</i> lr (polynomial's lr_init, min_lr's ratio), each
/// group uses its own base value here: identical with one group.</remarks>
public static class HuggingFace
{
    /// <summary><c>linear</c> (<c>get_linear_schedule_with_warmup</c>): warmup, then linear decay to 0 at
    /// num_training_steps. JSON: <c>{"type": "linear", "num_warmup_steps": 100, "num_training_steps": 1000}</c>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>: steps of the linear warmup from 0, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>: total steps, ≥ 1.</param>
    public static Schedule Linear(long numWarmupSteps, long numTrainingSteps)
    {
        var decay = Steps("linear", numWarmupSteps, numTrainingSteps);
        return WarmupThen("linear", numWarmupSteps, decay, tau => Math.Max(0.0, (decay - tau) / Math.Max(1, decay)));
    }

    /// <summary><c>cosine</c> (<c>get_cosine_schedule_with_warmup</c>): warmup, then
    /// 0.5 · (1 + cos(π · num_cycles · 2 · progress)), floored at 0; the default is one half-cosine from base to 0.
    /// JSON: <c>{"type": "cosine", "num_warmup_steps": 100, "num_training_steps": 1000}</c>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>: steps of the linear warmup from 0, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>: total steps, ≥ 1.</param>
    /// <param name="numCycles"><c>num_cycles</c>: number of cosine waves over the decay, ≥ 0.</param>
    public static Schedule Cosine(long numWarmupSteps, long numTrainingSteps, double numCycles = 0.5)
    {
        var decay = Steps("cosine", numWarmupSteps, numTrainingSteps);
        ScheduleGuard.NonNegative("cosine", "num_cycles", numCycles);
        return WarmupThen("cosine", numWarmupSteps, decay,
            tau => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * numCycles * 2.0 * (tau / Math.Max(1, decay))))));
    }

    /// <summary><c>cosine_with_restarts</c> (<c>get_cosine_with_hard_restarts_schedule_with_warmup</c>): warmup, then
    /// num_cycles half-cosines from base to 0, each restarting at base; 0 from num_training_steps on.
    /// JSON: <c>{"type": "cosine_with_restarts", "num_warmup_steps": 100, "num_training_steps": 1000, "num_cycles": 3}</c>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>: steps of the linear warmup from 0, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>: total steps, ≥ 1.</param>
    /// <param name="numCycles"><c>num_cycles</c>: number of hard-restarted half-cosines, ≥ 1.</param>
    public static Schedule CosineWithHardRestarts(long numWarmupSteps, long numTrainingSteps, long numCycles = 1)
    {
        const string name = "cosine_with_restarts";
        var decay = Steps(name, numWarmupSteps, numTrainingSteps);
        ScheduleGuard.AtLeast(name, "num_cycles", numCycles, 1);
        return WarmupThen(name, numWarmupSteps, decay, tau =>
        {
            var progress = tau / Math.Max(1, decay);
            if (progress >= 1.0) return 0.0;
            return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * ScheduleGuard.PyMod((double)numCycles * progress, 1.0))));
        });
    }

    /// <summary><c>polynomial</c> (<c>get_polynomial_decay_schedule_with_warmup</c>): warmup, then
    /// (base − lr_end) · (1 − progress)<sup>power</sup> + lr_end, and lr_end past num_training_steps.
    /// JSON: <c>{"type": "polynomial", "num_warmup_steps": 100, "num_training_steps": 1000, "lr_end": 1e-7}</c>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>: steps of the linear warmup from 0, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>: total steps, &gt; num_warmup_steps.</param>
    /// <param name="lrEnd"><c>lr_end</c>: the final value, ≥ 0 and below every group's lr.</param>
    /// <param name="power"><c>power</c>: exponent of the decay, ≥ 0.</param>
    public static Schedule Polynomial(long numWarmupSteps, long numTrainingSteps, double lrEnd = 1e-7, double power = 1.0)
    {
        const string name = "polynomial";
        ScheduleGuard.AtLeast(name, "num_warmup_steps", numWarmupSteps, 0);
        ScheduleGuard.AtLeast(name, "num_training_steps", numTrainingSteps, numWarmupSteps + 1);
        ScheduleGuard.NonNegative(name, "lr_end", lrEnd);
        ScheduleGuard.NonNegative(name, "power", power);
        long decay = numTrainingSteps - numWarmupSteps;
        // Hugging Face's factor is decay / lr_init, which LambdaLR multiplies by lr_init again; so is it here.
        var after = new FunctionSchedule(name, null, (tau, lrInit) =>
        {
            if (tau > decay) return lrInit * (lrEnd / lrInit);
            var pctRemaining = 1 - tau / decay;
            return lrInit * (((lrInit - lrEnd) * Math.Pow(pctRemaining, power) + lrEnd) / lrInit);
        }, decay, bases =>
        {
            for (var g = 0; g < bases.Count; g++)
                if (!(bases[g] > lrEnd))
                    throw new ArgumentOutOfRangeException("lr_end",
                        $"polynomial: lr_end ({ScheduleGuard.F(lrEnd)}) must be smaller than the initial lr ({ScheduleGuard.F(bases[g])}) of parameter group {g}.");
        });
        return WarmupThen(name, numWarmupSteps, after);
    }

    /// <summary><c>constant</c> (<c>get_constant_schedule</c>): the base value throughout. JSON:
    /// <c>{"type": "constant"}</c> — with the timm keys, e.g. <c>warmup_t</c>, it is a plain warmup.</summary>
    public static Schedule Constant() => new FunctionSchedule("constant", _ => 1.0, null, null);

    /// <summary><c>constant_with_warmup</c> (<c>get_constant_schedule_with_warmup</c>): warmup, then the base value.
    /// JSON: <c>{"type": "constant_with_warmup", "num_warmup_steps": 100}</c>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>: steps of the linear warmup from 0, ≥ 0.</param>
    public static Schedule ConstantWithWarmup(long numWarmupSteps)
    {
        ScheduleGuard.AtLeast("constant_with_warmup", "num_warmup_steps", numWarmupSteps, 0);
        return WarmupThen("constant_with_warmup", numWarmupSteps, null, _ => 1.0);
    }

    /// <summary><c>inverse_sqrt</c> (<c>get_inverse_sqrt_schedule</c>, from big_vision): warmup, then
    /// 1 / √((t + timescale − num_warmup_steps) / timescale). JSON: <c>{"type": "inverse_sqrt", "num_warmup_steps": 1000}</c>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>: steps of the linear warmup from 0, ≥ 0.</param>
    /// <param name="timescale"><c>timescale</c>: the decay's time scale, ≥ 1; when absent, num_warmup_steps, or 10000 when that is 0.</param>
    public static Schedule InverseSqrt(long numWarmupSteps, long? timescale = null)
    {
        const string name = "inverse_sqrt";
        ScheduleGuard.AtLeast(name, "num_warmup_steps", numWarmupSteps, 0);
        var scale = ScheduleGuard.AtLeast(name, "timescale", timescale ?? (numWarmupSteps != 0 ? numWarmupSteps : 10_000), 1);
        // t + timescale − num_warmup_steps, with t = tau + num_warmup_steps.
        return WarmupThen(name, numWarmupSteps, null, tau => 1.0 / Math.Sqrt((tau + scale) / scale));
    }

    /// <summary><c>cosine_with_min_lr</c> (<c>get_cosine_with_min_lr_schedule_with_warmup</c>): like <c>cosine</c>,
    /// decaying to min_lr (or min_lr_rate · base) instead of 0; give exactly one of the two.
    /// JSON: <c>{"type": "cosine_with_min_lr", "num_warmup_steps": 100, "num_training_steps": 1000, "min_lr_rate": 0.1}</c>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>: steps of the linear warmup from 0, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>: total steps, ≥ 1.</param>
    /// <param name="numCycles"><c>num_cycles</c>: number of cosine waves over the decay, ≥ 0.</param>
    /// <param name="minLr"><c>min_lr</c>: the floor as a value, ≥ 0 (or give min_lr_rate).</param>
    /// <param name="minLrRate"><c>min_lr_rate</c>: the floor as a fraction of base, in [0, 1] (or give min_lr).</param>
    public static Schedule CosineWithMinLr(long numWarmupSteps, long numTrainingSteps, double numCycles = 0.5,
        double? minLr = null, double? minLrRate = null)
    {
        const string name = "cosine_with_min_lr";
        var floor = new CosineToFloor(name, numWarmupSteps, numTrainingSteps, numCycles, minLr, minLrRate);
        var decay = numTrainingSteps - numWarmupSteps;
        var after = new FunctionSchedule(name, null, (tau, lr) => lr * floor.Factor(tau / Math.Max(1, decay), lr), decay, floor.Check);
        return WarmupThen(name, numWarmupSteps, after);
    }

    /// <summary><c>cosine_warmup_with_min_lr</c> (<c>get_cosine_with_min_lr_schedule_with_warmup_lr_rate</c>): the
    /// warmup starts at warmup_lr_rate instead of 0 (by default (t + 1) / num_warmup_steps) and the cosine is shifted
    /// one step, decaying to min_lr (or min_lr_rate · base); give exactly one of the two.
    /// JSON: <c>{"type": "cosine_warmup_with_min_lr", "num_warmup_steps": 100, "num_training_steps": 1000, "min_lr_rate": 0.1}</c>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>: steps of the warmup, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>: total steps, ≥ 1.</param>
    /// <param name="numCycles"><c>num_cycles</c>: number of cosine waves over the decay, ≥ 0.</param>
    /// <param name="minLr"><c>min_lr</c>: the floor as a value, ≥ 0 (or give min_lr_rate).</param>
    /// <param name="minLrRate"><c>min_lr_rate</c>: the floor as a fraction of base, in [0, 1] (or give min_lr).</param>
    /// <param name="warmupLrRate"><c>warmup_lr_rate</c>: the warmup's starting fraction, in [0, 1]; when absent the
    /// warmup is (t + 1) / num_warmup_steps.</param>
    public static Schedule CosineWarmupWithMinLr(long numWarmupSteps, long numTrainingSteps, double numCycles = 0.5,
        double? minLr = null, double? minLrRate = null, double? warmupLrRate = null)
    {
        const string name = "cosine_warmup_with_min_lr";
        var floor = new CosineToFloor(name, numWarmupSteps, numTrainingSteps, numCycles, minLr, minLrRate);
        if (warmupLrRate is { } w) ScheduleGuard.InRange(name, "warmup_lr_rate", w, 0, 1);
        double warmup = numWarmupSteps, training = numTrainingSteps;
        Func<double, double> rise = warmupLrRate is { } rate
            ? t => rate + (1.0 - rate) * t / Math.Max(1, numWarmupSteps - 1)
            : t => (t + 1.0) / Math.Max(1.0, warmup);
        // This variant's cosine is shifted one step: it starts just below 1 right after the warmup.
        var after = new FunctionSchedule(name, null,
            (tau, lr) => lr * floor.Factor((tau + 1.0) / Math.Max(1.0, training - warmup), lr), training - warmup, floor.Check);
        return numWarmupSteps == 0 ? after : new JoinedSchedule(name, [warmup], [new FunctionSchedule(name, rise, null, warmup), after]);
    }

    /// <summary><c>warmup_stable_decay</c> (<c>get_wsd_schedule</c>): a warmup from min_lr_ratio · base to base, a
    /// stable phase at base, then a decay back to min_lr_ratio · base, held afterwards. Give num_training_steps or
    /// num_stable_steps (num_stable_steps wins).
    /// JSON: <c>{"type": "warmup_stable_decay", "num_warmup_steps": 100, "num_decay_steps": 200, "num_training_steps": 1000, "decay_type": "1-sqrt"}</c>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>: steps of the warmup, ≥ 0.</param>
    /// <param name="numDecaySteps"><c>num_decay_steps</c>: steps of the decay, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>: total steps; the stable phase fills what warmup and decay leave.</param>
    /// <param name="numStableSteps"><c>num_stable_steps</c>: steps of the stable phase, ≥ 0; wins over num_training_steps.</param>
    /// <param name="warmupType"><c>warmup_type</c>: the warmup's shape, <c>linear</c>, <c>cosine</c> or <c>1-sqrt</c>.</param>
    /// <param name="decayType"><c>decay_type</c>: the decay's shape, <c>linear</c>, <c>cosine</c> or <c>1-sqrt</c>.</param>
    /// <param name="minLrRatio"><c>min_lr_ratio</c>: start and end as a fraction of base, in [0, 1].</param>
    /// <param name="numCycles"><c>num_cycles</c>: cosine waves of a cosine decay, ≥ 0.</param>
    public static Schedule WarmupStableDecay(long numWarmupSteps, long numDecaySteps, long? numTrainingSteps = null,
        long? numStableSteps = null, WsdShape warmupType = WsdShape.Linear, WsdShape decayType = WsdShape.Cosine,
        double minLrRatio = 0, double numCycles = 0.5)
    {
        const string name = "warmup_stable_decay";
        ScheduleGuard.AtLeast(name, "num_warmup_steps", numWarmupSteps, 0);
        ScheduleGuard.AtLeast(name, "num_decay_steps", numDecaySteps, 0);
        long stable;
        if (numStableSteps is { } s) stable = ScheduleGuard.AtLeast(name, "num_stable_steps", s, 0);
        else if (numTrainingSteps is { } n)
        {
            if (n < numWarmupSteps + numDecaySteps)
                throw new ArgumentOutOfRangeException(nameof(numTrainingSteps),
                    $"{name}: num_training_steps must be ≥ num_warmup_steps + num_decay_steps = {numWarmupSteps + numDecaySteps}, got {n}.");
            stable = n - numWarmupSteps - numDecaySteps;
        }
        else throw new ArgumentException($"{name}: give num_training_steps or num_stable_steps.", nameof(numTrainingSteps));
        var m = ScheduleGuard.InRange(name, "min_lr_ratio", minLrRatio, 0, 1);
        ScheduleGuard.NonNegative(name, "num_cycles", numCycles);
        double w = numWarmupSteps, d = numDecaySteps;

        double Ramp(double shape) => Math.Max(0.0, shape * (1.0 - m) + m);
        var warm = new FunctionSchedule(name, t =>
        {
            var progress = t / Math.Max(1, numWarmupSteps);
            return Ramp(warmupType switch
            {
                WsdShape.Linear => progress,
                WsdShape.Cosine => 0.5 * (1.0 - Math.Cos(Math.PI * progress)),
                _ => 1.0 - Math.Sqrt(1.0 - progress),
            });
        }, null, w);
        var decay = new FunctionSchedule(name, tau =>
        {
            if (!(tau < d)) return m;   // held at the floor after the decay
            var progress = tau / Math.Max(1, numDecaySteps);
            return Ramp(decayType switch
            {
                WsdShape.Linear => 1.0 - progress,
                WsdShape.Cosine => 0.5 * (1.0 + Math.Cos(Math.PI * numCycles * 2.0 * progress)),
                _ => 1.0 - Math.Sqrt(progress),
            });
        }, null, d);
        return new JoinedSchedule(name, [w, w + stable], [warm, new FunctionSchedule(name, _ => 1.0, null, stable), decay]);
    }

    /// <summary>Checks num_warmup_steps ≥ 0 and num_training_steps ≥ 1; returns the steps after the warmup.</summary>
    private static long Steps(string name, long numWarmupSteps, long numTrainingSteps)
    {
        ScheduleGuard.AtLeast(name, "num_warmup_steps", numWarmupSteps, 0);
        ScheduleGuard.AtLeast(name, "num_training_steps", numTrainingSteps, 1);
        return numTrainingSteps - numWarmupSteps;
    }

    /// <summary>Hugging Face's warmup, then a factor of the time since the warmup.</summary>
    private static Schedule WarmupThen(string name, long numWarmupSteps, double? stepsAfter, Func<double, double> factorAfter) =>
        WarmupThen(name, numWarmupSteps, new FunctionSchedule(name, factorAfter, null, stepsAfter));

    private static Schedule WarmupThen(string name, long numWarmupSteps, Schedule after) =>
        numWarmupSteps == 0 ? after : new JoinedSchedule(name, [numWarmupSteps], [Schedule.LinearWarmup(numWarmupSteps), after]);

    /// <summary>The two cosine-to-a-floor schedules' shared settings, checks and cosine into [floor, 1].</summary>
    private sealed class CosineToFloor
    {
        private readonly string _name;
        private readonly double _numCycles;
        private readonly double? _minLr, _minLrRate;

        public CosineToFloor(string name, long numWarmupSteps, long numTrainingSteps, double numCycles, double? minLr, double? minLrRate)
        {
            _name = name;
            Steps(name, numWarmupSteps, numTrainingSteps);
            _numCycles = ScheduleGuard.NonNegative(name, "num_cycles", numCycles);
            if (minLr.HasValue == minLrRate.HasValue)
                throw new ArgumentException($"{name}: give exactly one of min_lr and min_lr_rate.", nameof(minLr));
            _minLr = minLr is { } v ? ScheduleGuard.NonNegative(name, "min_lr", v) : null;
            _minLrRate = minLrRate is { } r ? ScheduleGuard.InRange(name, "min_lr_rate", r, 0, 1) : null;
        }

        /// <summary>A min_lr is turned into a fraction of each group's base value, so no group may start at 0.</summary>
        public void Check(IReadOnlyList<double> bases)
        {
            if (_minLr is null) return;
            for (var g = 0; g < bases.Count; g++)
                if (bases[g] == 0)
                    throw new ArgumentException($"{_name}: min_lr needs a non-zero lr to divide by, but parameter group {g} has lr 0; use min_lr_rate.", "min_lr");
        }

        /// <summary>The cosine at <paramref name="progress"/> ∈ [0, 1] of the decay, scaled into [floor, 1].</summary>
        public double Factor(double progress, double baseValue)
        {
            var rate = _minLrRate ?? _minLr!.Value / baseValue;
            var factor = 0.5 * (1.0 + Math.Cos(Math.PI * _numCycles * 2.0 * progress));
            return Math.Max(0, factor * (1 - rate) + rate);
        }
    }
}
