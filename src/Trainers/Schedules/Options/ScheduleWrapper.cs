using System.Text.Json.Nodes;

namespace MLLrSched.Schedules;

/// <summary>A schedule that modifies another (the timm options: warmup, cycles, noise); forwards everything it does
/// not change.</summary>
public abstract class ScheduleWrapper : Schedule
{
    /// <summary>Wraps <paramref name="inner"/>.</summary>
    protected ScheduleWrapper(Schedule inner) => Inner = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <summary>The wrapped schedule.</summary>
    public Schedule Inner { get; }

    /// <inheritdoc />
    public override string TypeName => Inner.TypeName;

    /// <inheritdoc />
    public override bool DrivesMomentum => Inner.DrivesMomentum;

    /// <inheritdoc />
    public override double? Horizon => Inner.Horizon;

    /// <inheritdoc />
    public override bool UsesBaseValue => Inner.UsesBaseValue;

    /// <inheritdoc />
    public override bool UsesMetric => Inner.UsesMetric;

    /// <inheritdoc />
    public override bool IsStateful => Inner.IsStateful;

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues) => Inner.Bind(baseValues);

    /// <inheritdoc />
    public override void Observe(double t, double metric) => Inner.Observe(t, metric);

    /// <inheritdoc />
    public override double Momentum(double t, int group) => Inner.Momentum(t, group);

    /// <inheritdoc />
    public override JsonObject? SaveState() => Inner.SaveState();

    /// <inheritdoc />
    public override void LoadState(JsonObject? state) => Inner.LoadState(state);
}
