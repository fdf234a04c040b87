namespace MLLrSched.Schedules;

/// <summary>
/// Hugging Face <c>constant_with_warmup</c> (<c>get_constant_schedule_with_warmup</c>): linear warmup from 0, then
/// the base value. JSON: <c>{"type": "constant_with_warmup", "num_warmup_steps": 100}</c>.
/// </summary>
public sealed class ConstantScheduleWithWarmup : FactorSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>, ≥ 0.</param>
    public ConstantScheduleWithWarmup(long numWarmupSteps) =>
        NumWarmupSteps = ScheduleGuard.AtLeast(TypeName, "num_warmup_steps", numWarmupSteps, 0);

    /// <summary><c>num_warmup_steps</c>.</summary>
    public long NumWarmupSteps { get; }

    /// <inheritdoc />
    public override string TypeName => "constant_with_warmup";

    /// <inheritdoc />
    public override double Factor(double t, double baseValue) =>
        t < NumWarmupSteps ? t / Math.Max(1.0, NumWarmupSteps) : 1.0;
}
