namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>LinearLR</c>: the multiplier moves linearly from start_factor to end_factor over total_iters
/// steps, then stays. JSON: <c>{"type": "LinearLR", "start_factor": 0.1, "total_iters": 10}</c>.
/// </summary>
public sealed class LinearLR : Schedule, IChainableSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="startFactor"><c>start_factor</c>: multiplier at t = 0, in (0, 1].</param>
    /// <param name="endFactor"><c>end_factor</c>: multiplier from t = total_iters on, in [0, 1].</param>
    /// <param name="totalIters"><c>total_iters</c>: steps of the ramp, ≥ 1.</param>
    public LinearLR(double startFactor = 1.0 / 3, double endFactor = 1.0, long totalIters = 5)
    {
        StartFactor = ScheduleGuard.InRange(TypeName, "start_factor", startFactor, 0, 1, loOpen: true);
        EndFactor = ScheduleGuard.InRange(TypeName, "end_factor", endFactor, 0, 1);
        TotalIters = ScheduleGuard.AtLeast(TypeName, "total_iters", totalIters, 1);
    }

    /// <summary><c>start_factor</c>.</summary>
    public double StartFactor { get; }

    /// <summary><c>end_factor</c>.</summary>
    public double EndFactor { get; }

    /// <summary><c>total_iters</c>.</summary>
    public long TotalIters { get; }

    /// <inheritdoc />
    public override string TypeName => "LinearLR";

    /// <inheritdoc />
    public override double? Horizon => TotalIters;

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue) =>
        baseValue * (StartFactor + (EndFactor - StartFactor) * Math.Min(TotalIters, t) / TotalIters);

    /// <inheritdoc />
    public double ChainStep(long t, int group, double current, double baseValue)
    {
        if (t == 0) return current * StartFactor;
        if (t > TotalIters) return current;
        return current * (1.0 + (EndFactor - StartFactor) /
            (TotalIters * StartFactor + (t - 1) * (EndFactor - StartFactor)));
    }
}
