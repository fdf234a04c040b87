namespace MLLrSched.Schedules;

/// <summary>
/// Hugging Face <c>cosine_with_min_lr</c> (<c>get_cosine_with_min_lr_schedule_with_warmup</c>): like
/// <c>cosine</c>, but decaying to min_lr (or min_lr_rate · base) instead of 0.
/// JSON: <c>{"type": "cosine_with_min_lr", "num_warmup_steps": 100, "num_training_steps": 1000, "min_lr_rate": 0.1}</c>.
/// </summary>
/// <remarks>With <c>min_lr</c>, Hugging Face divides by the optimizer's default lr; here by each group's base value.</remarks>
public sealed class CosineWithMinLrScheduleWithWarmup : FactorSchedule
{
    /// <summary>Creates the schedule; give exactly one of <paramref name="minLr"/> and <paramref name="minLrRate"/>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>, ≥ 1.</param>
    /// <param name="numCycles"><c>num_cycles</c> (default 0.5), ≥ 0.</param>
    /// <param name="minLr"><c>min_lr</c>: the floor as a value, ≥ 0.</param>
    /// <param name="minLrRate"><c>min_lr_rate</c>: the floor as a fraction of base, in [0, 1].</param>
    public CosineWithMinLrScheduleWithWarmup(long numWarmupSteps, long numTrainingSteps, double numCycles = 0.5,
        double? minLr = null, double? minLrRate = null)
    {
        NumWarmupSteps = ScheduleGuard.AtLeast(TypeName, "num_warmup_steps", numWarmupSteps, 0);
        NumTrainingSteps = ScheduleGuard.AtLeast(TypeName, "num_training_steps", numTrainingSteps, 1);
        NumCycles = ScheduleGuard.NonNegative(TypeName, "num_cycles", numCycles);
        if (minLr.HasValue == minLrRate.HasValue)
            throw new ArgumentException($"{TypeName}: give exactly one of min_lr and min_lr_rate.", nameof(minLr));
        MinLr = minLr is { } m ? ScheduleGuard.NonNegative(TypeName, "min_lr", m) : null;
        MinLrRate = minLrRate is { } r ? ScheduleGuard.InRange(TypeName, "min_lr_rate", r, 0, 1) : null;
    }

    /// <summary><c>num_warmup_steps</c>.</summary>
    public long NumWarmupSteps { get; }

    /// <summary><c>num_training_steps</c>.</summary>
    public long NumTrainingSteps { get; }

    /// <summary><c>num_cycles</c>.</summary>
    public double NumCycles { get; }

    /// <summary><c>min_lr</c>, when given.</summary>
    public double? MinLr { get; }

    /// <summary><c>min_lr_rate</c>, when given.</summary>
    public double? MinLrRate { get; }

    /// <inheritdoc />
    public override string TypeName => "cosine_with_min_lr";

    /// <inheritdoc />
    public override double? Horizon => NumTrainingSteps;

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues)
    {
        if (MinLr is not { } m) return;
        for (var g = 0; g < baseValues.Count; g++)
            if (baseValues[g] == 0)
                throw new ArgumentException($"{TypeName}: min_lr needs a non-zero lr to divide by, but parameter group {g} has lr 0; use min_lr_rate.", "min_lr");
    }

    /// <inheritdoc />
    public override double Factor(double t, double baseValue)
    {
        if (t < NumWarmupSteps) return WarmupFactor(t, NumWarmupSteps);
        var rate = MinLrRate ?? MinLr!.Value / baseValue;
        var progress = (t - NumWarmupSteps) / Math.Max(1, NumTrainingSteps - NumWarmupSteps);
        var factor = 0.5 * (1.0 + Math.Cos(Math.PI * NumCycles * 2.0 * progress));
        factor = factor * (1 - rate) + rate;
        return Math.Max(0, factor);
    }
}
