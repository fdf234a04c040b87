namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>MultiStepLR</c>: value = base · gamma<sup>(milestones ≤ t)</sup>.
/// JSON: <c>{"type": "MultiStepLR", "milestones": [30, 80], "gamma": 0.1}</c>.
/// </summary>
public sealed class MultiStepLR : Schedule, IChainableSchedule
{
    private readonly long[] _milestones;

    /// <summary>Creates the schedule.</summary>
    /// <param name="milestones"><c>milestones</c>: steps at which to decay, strictly increasing, ≥ 0.</param>
    /// <param name="gamma"><c>gamma</c>: multiplicative factor per milestone, ≥ 0.</param>
    public MultiStepLR(IEnumerable<long> milestones, double gamma = 0.1)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        _milestones = ScheduleGuard.StrictlyIncreasing(TypeName, "milestones", milestones, 0);
        Gamma = ScheduleGuard.NonNegative(TypeName, "gamma", gamma);
    }

    /// <summary><c>milestones</c>.</summary>
    public IReadOnlyList<long> Milestones => _milestones;

    /// <summary><c>gamma</c>.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override string TypeName => "MultiStepLR";

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue) =>
        baseValue * Math.Pow(Gamma, ScheduleGuard.BisectRight(_milestones, t));

    /// <inheritdoc />
    public double ChainStep(long t, int group, double current, double baseValue) =>
        Array.BinarySearch(_milestones, t) >= 0 ? current * Gamma : current;
}
