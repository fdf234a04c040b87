namespace MLLrSched.Schedules;

/// <summary>
/// timm's cycle options on any schedule with a length (its <see cref="Schedule.Horizon"/> or <c>t_initial</c>):
/// the schedule is repeated in cycles, cycle i lasting t_initial · cycle_mul<sup>i</sup> steps with its base value
/// scaled by cycle_decay<sup>i</sup>, for cycle_limit cycles, after which the value of the last cycle's end is
/// held. k_decay (k-decay, Zhang &amp; al. 2020) warps time within a cycle: the schedule sees
/// t_i · (t_cur / t_i)<sup>k</sup>.
/// </summary>
/// <remarks>As in timm, cycle_limit defaults to 1: one cycle, then hold. Schedules that do not derive their values
/// from the base value (CyclicLR, OneCycleLR) get their output scaled by the decay instead.</remarks>
public sealed class Cycles : ScheduleWrapper
{
    /// <summary>Creates the cycles.</summary>
    /// <param name="inner">The schedule to repeat; must not react to metrics.</param>
    /// <param name="tInitial"><c>t_initial</c>: first cycle length, &gt; 0; default: the schedule's own length
    /// (T_max, total_iters, total_steps, num_training_steps...).</param>
    /// <param name="cycleMul"><c>cycle_mul</c>: cycle length growth, &gt; 0 (default 1).</param>
    /// <param name="cycleDecay"><c>cycle_decay</c>: base value factor per cycle, ≥ 0 (default 1).</param>
    /// <param name="cycleLimit"><c>cycle_limit</c>: number of cycles, ≥ 1 (default 1).</param>
    /// <param name="kDecay"><c>k_decay</c>: time warp exponent, &gt; 0 (default 1).</param>
    public Cycles(Schedule inner, double? tInitial = null, double cycleMul = 1, double cycleDecay = 1, long cycleLimit = 1,
        double kDecay = 1) : base(inner)
    {
        if (inner.TryGet<IMetricSchedule>() != null)
            throw new ArgumentException($"{inner.TypeName} reacts to a metric and has no fixed length; cycle options (cycle_mul, cycle_decay, cycle_limit, k_decay, t_initial) cannot repeat it.", nameof(inner));
        var length = tInitial ?? inner.Horizon
            ?? throw new ArgumentException(
                $"{inner.TypeName} has no natural cycle length; set t_initial to use cycle_mul, cycle_decay, cycle_limit or k_decay.", "t_initial");
        TInitial = ScheduleGuard.Positive(inner.TypeName, "t_initial", length);
        CycleMul = ScheduleGuard.Positive(inner.TypeName, "cycle_mul", cycleMul);
        CycleDecay = ScheduleGuard.NonNegative(inner.TypeName, "cycle_decay", cycleDecay);
        CycleLimit = ScheduleGuard.AtLeast(inner.TypeName, "cycle_limit", cycleLimit, 1);
        KDecay = ScheduleGuard.Positive(inner.TypeName, "k_decay", kDecay);
        InnerLength = inner.Horizon ?? TInitial;
        _logMul = Math.Log(CycleMul);
    }

    private readonly double _logMul;

    /// <summary><c>t_initial</c>.</summary>
    public double TInitial { get; }

    /// <summary><c>cycle_mul</c>.</summary>
    public double CycleMul { get; }

    /// <summary><c>cycle_decay</c>.</summary>
    public double CycleDecay { get; }

    /// <summary><c>cycle_limit</c>.</summary>
    public long CycleLimit { get; }

    /// <summary><c>k_decay</c>.</summary>
    public double KDecay { get; }

    /// <summary>The length of the wrapped schedule that one cycle is mapped onto.</summary>
    private double InnerLength { get; }

    /// <inheritdoc />
    public override double? Horizon => CycleMul == 1
        ? TInitial * CycleLimit
        : Math.Floor(-TInitial * (Math.Pow(CycleMul, CycleLimit) - 1) / (1 - CycleMul));

    /// <summary>The cycle index, its length and the time within it (timm's i, t_i, t_curr).</summary>
    public (double Index, double Length, double Within) Locate(double t)
    {
        if (CycleMul != 1)
        {
            var i = Math.Floor(Math.Log(1 - t / TInitial * (1 - CycleMul)) / _logMul);
            var mulI = Math.Pow(CycleMul, i);
            var ti = mulI * TInitial;
            var tCurr = t - (1 - mulI) / (1 - CycleMul) * TInitial;
            return (i, ti, tCurr);
        }
        var idx = ScheduleGuard.PyFloorDiv(t, TInitial);
        return (idx, TInitial, t - TInitial * idx);
    }

    private double InnerTime(double within, double length)
    {
        if (length == InnerLength && KDecay == 1) return within;
        // x ** 1 is x, so skipping the powers for k = 1 changes nothing.
        return KDecay == 1 ? InnerLength * (within / length) : InnerLength * (Math.Pow(within, KDecay) / Math.Pow(length, KDecay));
    }

    private double Scaled(double innerTime, int group, double baseValue, double gamma) =>
        Inner.UsesBaseValue ? Inner.Value(innerTime, group, baseValue * gamma) : Inner.Value(innerTime, group, baseValue) * gamma;

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue)
    {
        var (i, length, within) = Locate(t);
        if (i < CycleLimit) return Scaled(InnerTime(within, length), group, baseValue, Math.Pow(CycleDecay, i));
        return Scaled(InnerLength, group, baseValue, Math.Pow(CycleDecay, CycleLimit - 1));
    }

    /// <inheritdoc />
    public override double Momentum(double t, int group)
    {
        var (i, length, within) = Locate(t);
        return InnerMomentum.Momentum(i < CycleLimit ? InnerTime(within, length) : InnerLength, group);
    }
}
