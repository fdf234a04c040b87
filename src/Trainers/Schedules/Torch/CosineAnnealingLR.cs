namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>CosineAnnealingLR</c>: value = eta_min + (base − eta_min)(1 + cos(π t / T_max)) / 2. Past T_max it
/// follows the cosine back up, as PyTorch does (use the timm option <c>cycle_limit</c> to hold eta_min instead).
/// JSON: <c>{"type": "CosineAnnealingLR", "T_max": 100, "eta_min": 0}</c>.
/// </summary>
public sealed class CosineAnnealingLR : Schedule, IChainableSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="tMax"><c>T_max</c>: steps from base to eta_min, ≥ 1.</param>
    /// <param name="etaMin"><c>eta_min</c>: minimum value, ≥ 0.</param>
    public CosineAnnealingLR([SpecName("T_max")] long tMax, double etaMin = 0)
    {
        TMax = ScheduleGuard.AtLeast(TypeName, "T_max", tMax, 1);
        EtaMin = ScheduleGuard.NonNegative(TypeName, "eta_min", etaMin);
    }

    /// <summary><c>T_max</c>.</summary>
    public long TMax { get; }

    /// <summary><c>eta_min</c>.</summary>
    public double EtaMin { get; }

    /// <inheritdoc />
    public override string TypeName => "CosineAnnealingLR";

    /// <inheritdoc />
    public override double? Horizon => TMax;

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue) =>
        EtaMin + (baseValue - EtaMin) * (1 + Math.Cos(Math.PI * t / TMax)) / 2;

    /// <summary>PyTorch's recursive form, which is what composition observes: it rescales the incoming value around
    /// eta_min, and adds a fixed step where the cosine turns (where the ratio would divide by zero).</summary>
    public double ChainStep(long t, int group, double current, double baseValue)
    {
        if (t == 0) return current;
        if ((t - 1 - TMax) % (2 * TMax) == 0)
            return current + (baseValue - EtaMin) * (1 - Math.Cos(Math.PI / TMax)) / 2;
        return (1 + Math.Cos(Math.PI * t / TMax)) / (1 + Math.Cos(Math.PI * (t - 1) / TMax)) * (current - EtaMin) + EtaMin;
    }
}
