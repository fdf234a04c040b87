namespace MLLrSched.Schedules;

/// <summary>
/// A schedule given as a factor of the base value, value = base · factor(t) — the shape of PyTorch's LambdaLR and
/// of every Hugging Face schedule. Subclass it for your own closed-form schedule.
/// </summary>
public abstract class FactorSchedule : Schedule
{
    /// <summary>The factor at time <paramref name="t"/> for a group whose base value is <paramref name="baseValue"/>
    /// (most factors ignore it).</summary>
    public abstract double Factor(double t, double baseValue);

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue) => baseValue * Factor(t, baseValue);

    /// <summary>Hugging Face's linear warmup factor, current_step / max(1, num_warmup_steps).</summary>
    protected static double WarmupFactor(double t, long numWarmupSteps) => t / Math.Max(1, numWarmupSteps);
}
