namespace MLLrSched.Schedules;

/// <summary>
/// Hugging Face <c>linear</c> (<c>get_linear_schedule_with_warmup</c>): linear warmup from 0 to base over
/// num_warmup_steps, then linear decay to 0 at num_training_steps.
/// JSON: <c>{"type": "linear", "num_warmup_steps": 100, "num_training_steps": 1000}</c>.
/// </summary>
public sealed class LinearScheduleWithWarmup : FactorSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>, ≥ 1.</param>
    public LinearScheduleWithWarmup(long numWarmupSteps, long numTrainingSteps)
    {
        NumWarmupSteps = ScheduleGuard.AtLeast(TypeName, "num_warmup_steps", numWarmupSteps, 0);
        NumTrainingSteps = ScheduleGuard.AtLeast(TypeName, "num_training_steps", numTrainingSteps, 1);
    }

    /// <summary><c>num_warmup_steps</c>.</summary>
    public long NumWarmupSteps { get; }

    /// <summary><c>num_training_steps</c>.</summary>
    public long NumTrainingSteps { get; }

    /// <inheritdoc />
    public override string TypeName => "linear";

    /// <inheritdoc />
    public override double? Horizon => NumTrainingSteps;

    /// <inheritdoc />
    public override double Factor(double t, double baseValue)
    {
        if (t < NumWarmupSteps) return WarmupFactor(t, NumWarmupSteps);
        return Math.Max(0.0, (NumTrainingSteps - t) / Math.Max(1, NumTrainingSteps - NumWarmupSteps));
    }
}
