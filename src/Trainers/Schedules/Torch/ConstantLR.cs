namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>ConstantLR</c>: value = base · factor for t &lt; total_iters, then base.
/// JSON: <c>{"type": "ConstantLR", "factor": 0.5, "total_iters": 4}</c>.
/// </summary>
public sealed class ConstantLR : Schedule, IChainableSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="factor"><c>factor</c>: multiplier until total_iters, in (0, 1] (PyTorch 1.13 accepts 0
    /// but then divides by zero at total_iters).</param>
    /// <param name="totalIters"><c>total_iters</c>: steps at the reduced value, ≥ 1.</param>
    public ConstantLR(double factor = 1.0 / 3, long totalIters = 5)
    {
        Factor = ScheduleGuard.InRange(TypeName, "factor", factor, 0, 1, loOpen: true);
        TotalIters = ScheduleGuard.AtLeast(TypeName, "total_iters", totalIters, 1);
    }

    /// <summary><c>factor</c>.</summary>
    public double Factor { get; }

    /// <summary><c>total_iters</c>.</summary>
    public long TotalIters { get; }

    /// <inheritdoc />
    public override string TypeName => "ConstantLR";

    /// <inheritdoc />
    public override double? Horizon => TotalIters;

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue) =>
        baseValue * (Factor + (t >= TotalIters ? 1 : 0) * (1 - Factor));

    /// <inheritdoc />
    public double ChainStep(long t, int group, double current, double baseValue) =>
        t == 0 ? current * Factor : t == TotalIters ? current * (1.0 / Factor) : current;
}
