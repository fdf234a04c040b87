namespace MLLrSched.Schedules;

/// <summary>
/// Hugging Face <c>cosine_with_restarts</c> (<c>get_cosine_with_hard_restarts_schedule_with_warmup</c>): linear
/// warmup, then num_cycles half-cosines from base to 0, each restarting at base; 0 from num_training_steps on.
/// JSON: <c>{"type": "cosine_with_restarts", "num_warmup_steps": 100, "num_training_steps": 1000, "num_cycles": 3}</c>.
/// </summary>
public sealed class CosineWithHardRestartsScheduleWithWarmup : FactorSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>, ≥ 1.</param>
    /// <param name="numCycles"><c>num_cycles</c>: number of hard restarts (default 1), ≥ 1.</param>
    public CosineWithHardRestartsScheduleWithWarmup(long numWarmupSteps, long numTrainingSteps, long numCycles = 1)
    {
        NumWarmupSteps = ScheduleGuard.AtLeast(TypeName, "num_warmup_steps", numWarmupSteps, 0);
        NumTrainingSteps = ScheduleGuard.AtLeast(TypeName, "num_training_steps", numTrainingSteps, 1);
        NumCycles = ScheduleGuard.AtLeast(TypeName, "num_cycles", numCycles, 1);
    }

    /// <summary><c>num_warmup_steps</c>.</summary>
    public long NumWarmupSteps { get; }

    /// <summary><c>num_training_steps</c>.</summary>
    public long NumTrainingSteps { get; }

    /// <summary><c>num_cycles</c>.</summary>
    public long NumCycles { get; }

    /// <inheritdoc />
    public override string TypeName => "cosine_with_restarts";

    /// <inheritdoc />
    public override double? Horizon => NumTrainingSteps;

    /// <inheritdoc />
    public override double Factor(double t, double baseValue)
    {
        if (t < NumWarmupSteps) return WarmupFactor(t, NumWarmupSteps);
        var progress = (t - NumWarmupSteps) / Math.Max(1, NumTrainingSteps - NumWarmupSteps);
        if (progress >= 1.0) return 0.0;
        return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * ScheduleGuard.PyMod((double)NumCycles * progress, 1.0))));
    }
}
