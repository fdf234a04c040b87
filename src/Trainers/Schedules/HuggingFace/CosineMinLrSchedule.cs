namespace MLLrSched.Schedules;

/// <summary>
/// What Hugging Face's two cosine-to-a-floor schedules share (<see cref="CosineWithMinLrScheduleWithWarmup"/>,
/// <see cref="CosineWarmupWithMinLrSchedule"/>): the settings and their checks, the floor as min_lr or min_lr_rate,
/// and the cosine from 1 down to that floor. They differ only in the warmup and in where the cosine starts.
/// </summary>
public abstract class CosineMinLrSchedule : FactorSchedule
{
    /// <summary>Checks and stores the shared settings; exactly one of <paramref name="minLr"/> and <paramref name="minLrRate"/>.</summary>
    private protected CosineMinLrSchedule(long numWarmupSteps, long numTrainingSteps, double numCycles, double? minLr, double? minLrRate)
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
    public override double? Horizon => NumTrainingSteps;

    /// <summary>A min_lr is turned into a fraction of each group's base value, so no group may start at 0.</summary>
    public override void Bind(IReadOnlyList<double> baseValues)
    {
        if (MinLr is null) return;
        for (var g = 0; g < baseValues.Count; g++)
            if (baseValues[g] == 0)
                throw new ArgumentException($"{TypeName}: min_lr needs a non-zero lr to divide by, but parameter group {g} has lr 0; use min_lr_rate.", "min_lr");
    }

    /// <summary>The cosine at <paramref name="progress"/> ∈ [0, 1] of the decay, scaled into [floor, 1].</summary>
    protected double CosineToFloor(double progress, double baseValue)
    {
        var rate = MinLrRate ?? MinLr!.Value / baseValue;
        var factor = 0.5 * (1.0 + Math.Cos(Math.PI * NumCycles * 2.0 * progress));
        return Math.Max(0, factor * (1 - rate) + rate);
    }
}
