namespace MLLrSched.Schedules;

public abstract partial class Schedule
{
    /// <summary>
    /// optax's <c>join_schedules</c>: runs <paramref name="schedules"/>[k] from <paramref name="boundaries"/>[k−1] on,
    /// each at its own time, so the value at t is stage k's value at t − boundaries[k−1]. One boundary fewer than
    /// schedules, non-decreasing (an equal pair skips a stage). The stages must be pure: a stage with a metric,
    /// momentum or state belongs in <see cref="SequentialLR"/>, which carries those across its milestones.
    /// </summary>
    /// <example><c>Schedule.Join([100], Schedule.FromFactor(t => t / 100), new CosineAnnealingLR(900))</c>: warmup, then a cosine.</example>
    /// <exception cref="ArgumentException">Wrong number of boundaries, decreasing or negative ones, or a stage that is not pure.</exception>
    public static Schedule Join(IReadOnlyList<double> boundaries, params Schedule[] schedules) => new JoinedSchedule(null, boundaries, schedules);

    /// <summary>A pure schedule given as a factor of the base value: value = base · <paramref name="factor"/>(t).</summary>
    /// <param name="factor">t → factor; must be a pure function of t.</param>
    /// <param name="horizon">The schedule's length, for <see cref="Horizon"/> (and the timm cycle options).</param>
    public static Schedule FromFactor(Func<double, double> factor, double? horizon = null) =>
        new FunctionSchedule("factor", factor ?? throw new ArgumentNullException(nameof(factor)), null, horizon);

    /// <summary>A pure schedule given as a function of t and the group's base value:
    /// value = <paramref name="value"/>(t, base).</summary>
    /// <param name="value">(t, base value) → value; must be a pure function.</param>
    /// <param name="horizon">The schedule's length, for <see cref="Horizon"/>.</param>
    public static Schedule FromFunction(Func<double, double, double> value, double? horizon = null) =>
        new FunctionSchedule("function", null, value ?? throw new ArgumentNullException(nameof(value)), horizon);

    /// <summary>
    /// Hugging Face's warmup in front of any pure schedule: the factor rises linearly from 0 (t / warmup_steps), then
    /// <paramref name="then"/> runs at its own time t − <paramref name="warmupSteps"/>. No warmup steps: <paramref name="then"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="warmupSteps"/> is negative or not finite.</exception>
    public static Schedule WarmupThen(double warmupSteps, Schedule then)
    {
        ArgumentNullException.ThrowIfNull(then);
        ScheduleGuard.NonNegative(then.TypeName, "num_warmup_steps", warmupSteps);
        return warmupSteps == 0 ? then : Join([warmupSteps], LinearWarmup(warmupSteps), then);
    }

    /// <summary>The same schedule with every value multiplied by <paramref name="factor"/> (a pure schedule).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is negative or not finite.</exception>
    public Schedule Scale(double factor) => new ScaledSchedule(this, ScheduleGuard.NonNegative(TypeName, "factor", factor));

    /// <summary>The same schedule under another <see cref="TypeName"/> (how messages and charts call it).</summary>
    public Schedule Named(string typeName) => new NamedSchedule(this, typeName);

    /// <summary>Hugging Face's warmup factor, t / max(1, num_warmup_steps), as a stage of that length.</summary>
    internal static Schedule LinearWarmup(double warmupSteps) =>
        new FunctionSchedule("warmup", t => t / Math.Max(1, warmupSteps), null, warmupSteps);

    /// <summary>Throws unless <paramref name="s"/> is pure: composing a schedule with a metric, momentum or state
    /// would silently drop what makes it so.</summary>
    internal static void RequirePure(Schedule s, string helper)
    {
        ArgumentNullException.ThrowIfNull(s);
        var what = s.TryGet<IMetricSchedule>() != null ? "reacts to a metric"
            : s.TryGet<IMomentumSchedule>() != null ? "cycles momentum"
            : s.TryGet<IStatefulSchedule>() != null ? "keeps state"
            : null;
        if (what != null)
            throw new ArgumentException(
                $"{helper} composes pure schedules, but {s.TypeName} {what}; use SequentialLR or ChainedScheduler, which carry it.", nameof(s));
    }
}
