namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>ExponentialLR</c>: value = base · gamma<sup>t</sup>.
/// JSON: <c>{"type": "ExponentialLR", "gamma": 0.95}</c>.
/// </summary>
public sealed class ExponentialLR : Schedule, IChainableSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="gamma"><c>gamma</c>: factor per step, ≥ 0.</param>
    public ExponentialLR(double gamma) => Gamma = ScheduleGuard.NonNegative(TypeName, "gamma", gamma);

    /// <summary><c>gamma</c>.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override string TypeName => "ExponentialLR";

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue) => baseValue * Math.Pow(Gamma, t);

    /// <inheritdoc />
    public double ChainStep(long t, int group, double current, double baseValue) =>
        t == 0 ? current : current * Gamma;
}
