namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>StepLR</c>: value = base · gamma<sup>⌊t / step_size⌋</sup>.
/// JSON: <c>{"type": "StepLR", "step_size": 30, "gamma": 0.1}</c>.
/// </summary>
public sealed class StepLR : Schedule, IChainableSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="stepSize"><c>step_size</c>: period of the decay, ≥ 1.</param>
    /// <param name="gamma"><c>gamma</c>: multiplicative factor per period, ≥ 0.</param>
    public StepLR(long stepSize, double gamma = 0.1)
    {
        StepSize = ScheduleGuard.AtLeast(TypeName, "step_size", stepSize, 1);
        Gamma = ScheduleGuard.NonNegative(TypeName, "gamma", gamma);
    }

    /// <summary><c>step_size</c>.</summary>
    public long StepSize { get; }

    /// <summary><c>gamma</c>.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override string TypeName => "StepLR";

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue) =>
        baseValue * Math.Pow(Gamma, Math.Floor(t / StepSize));

    /// <inheritdoc />
    public double ChainStep(long t, int group, double current, double baseValue) =>
        t == 0 || t % StepSize != 0 ? current : current * Gamma;
}
