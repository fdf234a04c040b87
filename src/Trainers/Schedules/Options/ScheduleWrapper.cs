using System.Text.Json.Nodes;

namespace MLLrSched.Schedules;

/// <summary>A schedule that modifies another (the timm options: warmup, cycles, noise). It has exactly the wrapped
/// schedule's capabilities (momentum, metric, state) and forwards everything it does not change.</summary>
public abstract class ScheduleWrapper : Schedule, IMomentumSchedule, IMetricSchedule, IStatefulSchedule
{
    private readonly IMomentumSchedule? _momentum;
    private readonly IMetricSchedule? _metric;
    private readonly IStatefulSchedule? _stateful;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    protected ScheduleWrapper(Schedule inner)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _momentum = inner.TryGet<IMomentumSchedule>();
        _metric = inner.TryGet<IMetricSchedule>();
        _stateful = inner.TryGet<IStatefulSchedule>();
    }

    /// <summary>The wrapped schedule.</summary>
    public Schedule Inner { get; }

    /// <inheritdoc />
    public override string TypeName => Inner.TypeName;

    /// <inheritdoc />
    public override double? Horizon => Inner.Horizon;

    /// <inheritdoc />
    public override bool UsesBaseValue => Inner.UsesBaseValue;

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues) => Inner.Bind(baseValues);

    /// <summary>The wrapped schedule's capabilities, served by this wrapper; never its torch chaining, which the
    /// wrapper's own change would break (a wrapped schedule sets its absolute value in a chain).</summary>
    public override T? TryGet<T>() where T : class => Inner.TryGet<T>() is null ? null : this as T;

    /// <summary>The wrapped schedule's momentum; wrappers that move time override it.</summary>
    public virtual double Momentum(double t, int group) => InnerMomentum.Momentum(t, group);

    /// <summary>Reports the metric to the wrapped schedule; wrappers that move time override it.</summary>
    public virtual void Observe(double t, double metric) => _metric?.Observe(t, metric);

    /// <inheritdoc />
    public JsonObject? SaveState() => _stateful?.SaveState();

    /// <inheritdoc />
    public void LoadState(JsonObject? state) => _stateful?.LoadState(state);

    /// <summary>The wrapped schedule's momentum capability.</summary>
    /// <exception cref="InvalidOperationException">It does not cycle momentum.</exception>
    protected IMomentumSchedule InnerMomentum =>
        _momentum ?? throw new InvalidOperationException($"{Inner.TypeName} does not cycle momentum.");

    /// <summary>The wrapped schedule's metric capability, or null.</summary>
    protected IMetricSchedule? InnerMetric => _metric;
}
