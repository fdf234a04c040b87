namespace MLLrSched.Schedules;

/// <summary>The shape of a factor warmup (<see cref="Warmup.Factor"/>).</summary>
public enum WarmupMethod
{
    /// <summary><c>linear</c>: the factor rises linearly from warmup_factor to 1.</summary>
    Linear,

    /// <summary><c>constant</c>: the factor is warmup_factor throughout the warmup.</summary>
    Constant,
}

/// <summary>
/// The one warmup mechanism, usable on every schedule, in the two conventions in common use:
/// <list type="bullet">
/// <item><b>timm</b> (<see cref="Timm"/>; keys <c>warmup_t</c>, <c>warmup_lr_init</c>, <c>warmup_prefix</c>): for
/// t &lt; warmup_t the value rises linearly from warmup_lr_init to the group's base value, replacing the schedule;
/// with warmup_prefix the schedule then starts at its own t = 0, else it continues at t.</item>
/// <item><b>factor</b> (<see cref="Factor"/>; keys <c>warmup_iters</c>, <c>warmup_factor</c>, <c>warmup_method</c>):
/// the schedule's value is multiplied by a factor that rises linearly from warmup_factor to 1 (or stays at
/// warmup_factor, method constant) over warmup_iters — torchvision's detection reference and detectron2. Goyal et
/// al.'s gradual warmup (from base/k to base) is the linear factor warmup with warmup_factor = 1/k.</item>
/// </list>
/// </summary>
public sealed class Warmup : ScheduleWrapper
{
    private readonly bool _factor;

    private Warmup(Schedule inner, bool factor, double length, double start, WarmupMethod method, bool prefix) : base(inner)
    {
        _factor = factor;
        Length = length;
        Start = start;
        Method = method;
        Prefix = prefix;
    }

    /// <summary>timm's warmup: from <paramref name="warmupLrInit"/> linearly to the base value over
    /// <paramref name="warmupT"/> steps, then <paramref name="inner"/>.</summary>
    /// <param name="inner">The schedule after warmup.</param>
    /// <param name="warmupT"><c>warmup_t</c>: warmup length, &gt; 0.</param>
    /// <param name="warmupLrInit"><c>warmup_lr_init</c>: the value at t = 0 (default 0), ≥ 0.</param>
    /// <param name="warmupPrefix"><c>warmup_prefix</c>: start <paramref name="inner"/> at its t = 0 after the warmup
    /// (default false: it continues at t, so its first warmup_t steps are skipped).</param>
    public static Warmup Timm(Schedule inner, double warmupT, double warmupLrInit = 0, bool warmupPrefix = false)
    {
        ScheduleGuard.Positive(inner.TypeName, "warmup_t", warmupT);
        ScheduleGuard.NonNegative(inner.TypeName, "warmup_lr_init", warmupLrInit);
        return new Warmup(inner, false, warmupT, warmupLrInit, WarmupMethod.Linear, warmupPrefix);
    }

    /// <summary>The factor warmup (torchvision, detectron2, Goyal et al.): multiplies <paramref name="inner"/> by a
    /// factor for t &lt; <paramref name="warmupIters"/>.</summary>
    /// <param name="inner">The schedule.</param>
    /// <param name="warmupIters"><c>warmup_iters</c>: warmup length, &gt; 0.</param>
    /// <param name="warmupFactor"><c>warmup_factor</c>: the factor at t = 0, ≥ 0 (default 1/3, detectron2's).</param>
    /// <param name="method"><c>warmup_method</c>: linear (default) or constant.</param>
    public static Warmup Factor(Schedule inner, double warmupIters, double warmupFactor = 1.0 / 3, WarmupMethod method = WarmupMethod.Linear)
    {
        ScheduleGuard.Positive(inner.TypeName, "warmup_iters", warmupIters);
        ScheduleGuard.NonNegative(inner.TypeName, "warmup_factor", warmupFactor);
        return new Warmup(inner, true, warmupIters, warmupFactor, method, false);
    }

    /// <summary>Warmup length (warmup_t or warmup_iters).</summary>
    public double Length { get; }

    /// <summary>warmup_lr_init (timm) or warmup_factor (factor warmup).</summary>
    public double Start { get; }

    /// <summary>True for the factor convention.</summary>
    public bool IsFactor => _factor;

    /// <summary><c>warmup_method</c> (factor convention).</summary>
    public WarmupMethod Method { get; }

    /// <summary><c>warmup_prefix</c> (timm convention).</summary>
    public bool Prefix { get; }

    private double InnerTime(double t) => Prefix ? Math.Max(0, t - Length) : t;

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue)
    {
        if (t < Length)
        {
            if (_factor)
            {
                if (Method == WarmupMethod.Constant) return Inner.Value(t, group, baseValue) * Start;
                var alpha = t / Length;
                return Inner.Value(t, group, baseValue) * (Start * (1 - alpha) + alpha);
            }
            var step = (baseValue - Start) / Length;
            return Start + t * step;
        }
        return Inner.Value(InnerTime(t), group, baseValue);
    }

    /// <inheritdoc />
    public override double Momentum(double t, int group) => InnerMomentum.Momentum(InnerTime(t), group);

    /// <summary>A metric-driven schedule under a timm warmup sees the metrics reported after the warmup
    /// (t &gt; warmup_t), as timm's PlateauLRScheduler; under a factor warmup it sees them all.</summary>
    public override void Observe(double t, double metric)
    {
        if (_factor) InnerMetric?.Observe(t, metric);
        else if (t > Length) InnerMetric?.Observe(InnerTime(t), metric);
    }
}
