namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>PolynomialLR</c>: value = base · (1 − min(t, total_iters) / total_iters)<sup>power</sup>, reaching 0
/// at total_iters. JSON: <c>{"type": "PolynomialLR", "total_iters": 100, "power": 2.0}</c>.
/// </summary>
public sealed class PolynomialLR : Schedule, IChainableSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="totalIters"><c>total_iters</c>: steps of the decay, ≥ 1.</param>
    /// <param name="power"><c>power</c>: exponent, ≥ 0.</param>
    public PolynomialLR(long totalIters = 5, double power = 1.0)
    {
        TotalIters = ScheduleGuard.AtLeast(TypeName, "total_iters", totalIters, 1);
        Power = ScheduleGuard.NonNegative(TypeName, "power", power);
    }

    /// <summary><c>total_iters</c>.</summary>
    public long TotalIters { get; }

    /// <summary><c>power</c>.</summary>
    public double Power { get; }

    /// <inheritdoc />
    public override string TypeName => "PolynomialLR";

    /// <inheritdoc />
    public override double? Horizon => TotalIters;

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue) =>
        baseValue * Math.Pow(1.0 - Math.Min(TotalIters, t) / TotalIters, Power);

    /// <inheritdoc />
    public double ChainStep(long t, int group, double current, double baseValue)
    {
        if (t == 0 || t > TotalIters) return current;
        var decay = Math.Pow((1.0 - (double)t / TotalIters) / (1.0 - (double)(t - 1) / TotalIters), Power);
        return current * decay;
    }
}
