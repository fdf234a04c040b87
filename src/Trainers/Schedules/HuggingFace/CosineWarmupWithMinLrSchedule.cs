namespace MLLrSched.Schedules;

/// <summary>
/// Hugging Face <c>cosine_warmup_with_min_lr</c> (<c>get_cosine_with_min_lr_schedule_with_warmup_lr_rate</c>): the
/// warmup starts at warmup_lr_rate (default 1/num_warmup_steps, i.e. (t+1)/num_warmup_steps) instead of 0 and the
/// cosine is shifted one step, decaying to min_lr (or min_lr_rate · base).
/// JSON: <c>{"type": "cosine_warmup_with_min_lr", "num_warmup_steps": 100, "num_training_steps": 1000, "min_lr_rate": 0.1}</c>.
/// </summary>
public sealed class CosineWarmupWithMinLrSchedule : CosineMinLrSchedule
{
    /// <summary>Creates the schedule; give exactly one of <paramref name="minLr"/> and <paramref name="minLrRate"/>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>, ≥ 1.</param>
    /// <param name="numCycles"><c>num_cycles</c> (default 0.5), ≥ 0.</param>
    /// <param name="minLr"><c>min_lr</c>: the floor as a value, ≥ 0.</param>
    /// <param name="minLrRate"><c>min_lr_rate</c>: the floor as a fraction of base, in [0, 1].</param>
    /// <param name="warmupLrRate"><c>warmup_lr_rate</c>: the warmup's starting fraction, in [0, 1] (default: none, see summary).</param>
    public CosineWarmupWithMinLrSchedule(long numWarmupSteps, long numTrainingSteps, double numCycles = 0.5,
        double? minLr = null, double? minLrRate = null, double? warmupLrRate = null)
        : base(numWarmupSteps, numTrainingSteps, numCycles, minLr, minLrRate)
    {
        WarmupLrRate = warmupLrRate is { } w ? ScheduleGuard.InRange(TypeName, "warmup_lr_rate", w, 0, 1) : null;
    }

    /// <summary><c>warmup_lr_rate</c>, when given.</summary>
    public double? WarmupLrRate { get; }

    /// <inheritdoc />
    public override string TypeName => "cosine_warmup_with_min_lr";

    /// <inheritdoc />
    public override double Factor(double t, double baseValue)
    {
        double warmup = NumWarmupSteps, training = NumTrainingSteps;
        if (t < warmup)
        {
            if (WarmupLrRate is not { } w) return (t + 1.0) / Math.Max(1.0, warmup);
            return w + (1.0 - w) * t / Math.Max(1, NumWarmupSteps - 1);
        }
        // This variant's cosine is shifted one step: it starts just below 1 right after the warmup.
        return CosineToFloor((t - warmup + 1.0) / Math.Max(1.0, training - warmup), baseValue);
    }
}
