namespace MLLrSched.Schedules;

/// <summary>
/// Hugging Face <c>cosine_with_min_lr</c> (<c>get_cosine_with_min_lr_schedule_with_warmup</c>): like
/// <c>cosine</c>, but decaying to min_lr (or min_lr_rate · base) instead of 0.
/// JSON: <c>{"type": "cosine_with_min_lr", "num_warmup_steps": 100, "num_training_steps": 1000, "min_lr_rate": 0.1}</c>.
/// </summary>
/// <remarks>With <c>min_lr</c>, Hugging Face divides by the optimizer's default lr; here by each group's base value.</remarks>
public sealed class CosineWithMinLrScheduleWithWarmup : CosineMinLrSchedule
{
    /// <summary>Creates the schedule; give exactly one of <paramref name="minLr"/> and <paramref name="minLrRate"/>.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>, ≥ 1.</param>
    /// <param name="numCycles"><c>num_cycles</c> (default 0.5), ≥ 0.</param>
    /// <param name="minLr"><c>min_lr</c>: the floor as a value, ≥ 0.</param>
    /// <param name="minLrRate"><c>min_lr_rate</c>: the floor as a fraction of base, in [0, 1].</param>
    public CosineWithMinLrScheduleWithWarmup(long numWarmupSteps, long numTrainingSteps, double numCycles = 0.5,
        double? minLr = null, double? minLrRate = null)
        : base(numWarmupSteps, numTrainingSteps, numCycles, minLr, minLrRate)
    {
    }

    /// <inheritdoc />
    public override string TypeName => "cosine_with_min_lr";

    /// <inheritdoc />
    public override double Factor(double t, double baseValue) => t < NumWarmupSteps
        ? WarmupFactor(t, NumWarmupSteps)
        : CosineToFloor((t - NumWarmupSteps) / Math.Max(1, NumTrainingSteps - NumWarmupSteps), baseValue);
}
