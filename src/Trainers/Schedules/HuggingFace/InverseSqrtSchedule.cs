namespace MLLrSched.Schedules;

/// <summary>
/// Hugging Face <c>inverse_sqrt</c> (<c>get_inverse_sqrt_schedule</c>, from big_vision): linear warmup, then
/// 1 / sqrt((t + timescale − num_warmup_steps) / timescale).
/// JSON: <c>{"type": "inverse_sqrt", "num_warmup_steps": 1000}</c>.
/// </summary>
public sealed class InverseSqrtSchedule : FactorSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>, ≥ 0.</param>
    /// <param name="timescale"><c>timescale</c>, ≥ 1 (default: num_warmup_steps, or 10000 when that is 0).</param>
    public InverseSqrtSchedule(long numWarmupSteps, long? timescale = null)
    {
        NumWarmupSteps = ScheduleGuard.AtLeast(TypeName, "num_warmup_steps", numWarmupSteps, 0);
        Timescale = ScheduleGuard.AtLeast(TypeName, "timescale", timescale ?? (numWarmupSteps != 0 ? numWarmupSteps : 10_000), 1);
    }

    /// <summary><c>num_warmup_steps</c>.</summary>
    public long NumWarmupSteps { get; }

    /// <summary><c>timescale</c>.</summary>
    public long Timescale { get; }

    /// <inheritdoc />
    public override string TypeName => "inverse_sqrt";

    /// <inheritdoc />
    public override double Factor(double t, double baseValue)
    {
        if (t < NumWarmupSteps) return WarmupFactor(t, NumWarmupSteps);
        var shift = Timescale - NumWarmupSteps;
        return 1.0 / Math.Sqrt((t + shift) / Timescale);
    }
}
