namespace MLLrSched.Schedules;

/// <summary>A pure schedule's values times a constant (<see cref="Schedule.Scale"/>).</summary>
internal sealed class ScaledSchedule : Schedule
{
    private readonly Schedule _inner;
    private readonly double _factor;

    public ScaledSchedule(Schedule inner, double factor)
    {
        RequirePure(inner, "Scale");
        _inner = inner;
        _factor = factor;
    }

    public override string TypeName => $"{_inner.TypeName} × {ScheduleGuard.F(_factor)}";

    public override double? Horizon => _inner.Horizon;

    public override bool UsesBaseValue => _inner.UsesBaseValue;

    public override void Bind(IReadOnlyList<double> baseValues) => _inner.Bind(baseValues);

    public override double Value(double t, int group, double baseValue) => _inner.Value(t, group, baseValue) * _factor;
}
