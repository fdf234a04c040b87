namespace MLLrSched.Schedules;

/// <summary>
/// Hugging Face <c>cosine</c> (<c>get_cosine_schedule_with_warmup</c>): linear warmup, then
/// 0.5 · (1 + cos(π · num_cycles · 2 · progress)), floored at 0; the default num_cycles = 0.5 is one half-cosine
/// from base to 0. JSON: <c>{"type": "cosine", "num_warmup_steps": 100, "num_training_steps": 1000}</c>.
/// </summary>
public sealed class CosineScheduleWithWarmup : FactorSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>, ≥ 1.</param>
    /// <param name="numCycles"><c>num_cycles</c>: number of cosine waves (default 0.5), ≥ 0.</param>
    public CosineScheduleWithWarmup(long numWarmupSteps, long numTrainingSteps, double numCycles = 0.5)
    {
        NumWarmupSteps = ScheduleGuard.AtLeast(TypeName, "num_warmup_steps", numWarmupSteps, 0);
        NumTrainingSteps = ScheduleGuard.AtLeast(TypeName, "num_training_steps", numTrainingSteps, 1);
        NumCycles = ScheduleGuard.NonNegative(TypeName, "num_cycles", numCycles);
    }

    /// <summary><c>num_warmup_steps</c>.</summary>
    public long NumWarmupSteps { get; }

    /// <summary><c>num_training_steps</c>.</summary>
    public long NumTrainingSteps { get; }

    /// <summary><c>num_cycles</c>.</summary>
    public double NumCycles { get; }

    /// <inheritdoc />
    public override string TypeName => "cosine";

    /// <inheritdoc />
    public override double? Horizon => NumTrainingSteps;

    /// <inheritdoc />
    public override double Factor(double t, double baseValue)
    {
        if (t < NumWarmupSteps) return WarmupFactor(t, NumWarmupSteps);
        var progress = (t - NumWarmupSteps) / Math.Max(1, NumTrainingSteps - NumWarmupSteps);
        return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * NumCycles * 2.0 * progress)));
    }
}
