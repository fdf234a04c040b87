namespace MLLrSched.Schedules;

/// <summary>The ramp shapes of <see cref="WarmupStableDecaySchedule"/>.</summary>
public enum WsdShape
{
    /// <summary><c>linear</c>.</summary>
    Linear,

    /// <summary><c>cosine</c>.</summary>
    Cosine,

    /// <summary><c>1-sqrt</c>.</summary>
    OneMinusSqrt,
}

/// <summary>
/// Hugging Face <c>warmup_stable_decay</c> (<c>get_wsd_schedule</c>): warmup from min_lr_ratio · base to base,
/// a stable phase at base, then a decay back to min_lr_ratio · base (linear, cosine or 1-sqrt), held afterwards.
/// JSON: <c>{"type": "warmup_stable_decay", "num_warmup_steps": 100, "num_decay_steps": 200,
/// "num_training_steps": 1000, "decay_type": "1-sqrt"}</c>.
/// </summary>
public sealed class WarmupStableDecaySchedule : FactorSchedule
{
    /// <summary>Creates the schedule; give num_training_steps or num_stable_steps (num_stable_steps wins).</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>, ≥ 0.</param>
    /// <param name="numDecaySteps"><c>num_decay_steps</c>, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>: the stable phase fills the rest.</param>
    /// <param name="numStableSteps"><c>num_stable_steps</c>, ≥ 0.</param>
    /// <param name="warmupType"><c>warmup_type</c> (default linear).</param>
    /// <param name="decayType"><c>decay_type</c> (default cosine).</param>
    /// <param name="minLrRatio"><c>min_lr_ratio</c>: start and end as a fraction of base (default 0), in [0, 1].</param>
    /// <param name="numCycles"><c>num_cycles</c>: of the cosine decay (default 0.5), ≥ 0.</param>
    public WarmupStableDecaySchedule(long numWarmupSteps, long numDecaySteps, long? numTrainingSteps = null,
        long? numStableSteps = null, WsdShape warmupType = WsdShape.Linear, WsdShape decayType = WsdShape.Cosine,
        double minLrRatio = 0, double numCycles = 0.5)
    {
        NumWarmupSteps = ScheduleGuard.AtLeast(TypeName, "num_warmup_steps", numWarmupSteps, 0);
        NumDecaySteps = ScheduleGuard.AtLeast(TypeName, "num_decay_steps", numDecaySteps, 0);
        if (numStableSteps is { } s) NumStableSteps = ScheduleGuard.AtLeast(TypeName, "num_stable_steps", s, 0);
        else if (numTrainingSteps is { } n)
        {
            if (n < numWarmupSteps + numDecaySteps)
                throw new ArgumentOutOfRangeException(nameof(numTrainingSteps),
                    $"{TypeName}: num_training_steps must be ≥ num_warmup_steps + num_decay_steps = {numWarmupSteps + numDecaySteps}, got {n}.");
            NumStableSteps = n - numWarmupSteps - numDecaySteps;
        }
        else throw new ArgumentException($"{TypeName}: give num_training_steps or num_stable_steps.", nameof(numTrainingSteps));
        WarmupType = warmupType;
        DecayType = decayType;
        MinLrRatio = ScheduleGuard.InRange(TypeName, "min_lr_ratio", minLrRatio, 0, 1);
        NumCycles = ScheduleGuard.NonNegative(TypeName, "num_cycles", numCycles);
    }

    /// <summary><c>num_warmup_steps</c>.</summary>
    public long NumWarmupSteps { get; }

    /// <summary><c>num_decay_steps</c>.</summary>
    public long NumDecaySteps { get; }

    /// <summary><c>num_stable_steps</c>.</summary>
    public long NumStableSteps { get; }

    /// <summary><c>warmup_type</c>.</summary>
    public WsdShape WarmupType { get; }

    /// <summary><c>decay_type</c>.</summary>
    public WsdShape DecayType { get; }

    /// <summary><c>min_lr_ratio</c>.</summary>
    public double MinLrRatio { get; }

    /// <summary><c>num_cycles</c>.</summary>
    public double NumCycles { get; }

    /// <inheritdoc />
    public override string TypeName => "warmup_stable_decay";

    /// <inheritdoc />
    public override double? Horizon => NumWarmupSteps + NumStableSteps + NumDecaySteps;

    /// <inheritdoc />
    public override double Factor(double t, double baseValue)
    {
        double factor;
        if (t < NumWarmupSteps)
        {
            var progress = t / Math.Max(1, NumWarmupSteps);
            factor = WarmupType switch
            {
                WsdShape.Linear => progress,
                WsdShape.Cosine => 0.5 * (1.0 - Math.Cos(Math.PI * progress)),
                _ => 1.0 - Math.Sqrt(1.0 - progress),
            };
            factor = factor * (1.0 - MinLrRatio) + MinLrRatio;
            return Math.Max(0.0, factor);
        }
        if (t < NumWarmupSteps + NumStableSteps) return 1.0;
        if (t < NumWarmupSteps + NumStableSteps + NumDecaySteps)
        {
            var progress = (t - NumWarmupSteps - NumStableSteps) / Math.Max(1, NumDecaySteps);
            factor = DecayType switch
            {
                WsdShape.Linear => 1.0 - progress,
                WsdShape.Cosine => 0.5 * (1.0 + Math.Cos(Math.PI * NumCycles * 2.0 * progress)),
                _ => 1.0 - Math.Sqrt(progress),
            };
            factor = factor * (1.0 - MinLrRatio) + MinLrRatio;
            return Math.Max(0.0, factor);
        }
        return MinLrRatio;
    }
}
