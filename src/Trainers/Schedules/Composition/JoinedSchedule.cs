namespace MLLrSched.Schedules;

/// <summary>Stages of pure schedules, each at its own time from its boundary on (<see cref="Schedule.Join"/>).</summary>
internal sealed class JoinedSchedule : Schedule
{
    private readonly double[] _boundaries;
    private readonly Schedule[] _stages;
    private readonly string _name;

    public JoinedSchedule(string? name, IReadOnlyList<double> boundaries, IReadOnlyList<Schedule> stages)
    {
        ArgumentNullException.ThrowIfNull(boundaries);
        ArgumentNullException.ThrowIfNull(stages);
        if (stages.Count == 0) throw new ArgumentException("Join needs at least one schedule.", nameof(stages));
        foreach (var s in stages) RequirePure(s, "Join");
        _name = name ?? $"join({string.Join(", ", stages.Select(s => s.TypeName))})";
        if (boundaries.Count != stages.Count - 1)
            throw new ArgumentException($"{_name}: expected {stages.Count - 1} boundaries (one fewer than the {stages.Count} schedules), got {boundaries.Count}.", nameof(boundaries));
        for (var i = 0; i < boundaries.Count; i++)
        {
            if (!(boundaries[i] >= 0) || double.IsInfinity(boundaries[i]))
                ScheduleGuard.Fail(_name, "boundaries", "≥ 0 and finite", boundaries[i]);
            if (i > 0 && boundaries[i] < boundaries[i - 1])
                ScheduleGuard.Fail(_name, "boundaries", "non-decreasing", $"{ScheduleGuard.F(boundaries[i])} after {ScheduleGuard.F(boundaries[i - 1])}");
        }
        _boundaries = boundaries.ToArray();
        _stages = stages.ToArray();
    }

    public override string TypeName => _name;

    /// <summary>The last boundary plus the last stage's length; open-ended when the last stage is.</summary>
    public override double? Horizon => _stages[^1].Horizon is { } h ? (_boundaries.Length == 0 ? 0 : _boundaries[^1]) + h : null;

    public override bool UsesBaseValue => _stages.Any(s => s.UsesBaseValue);

    public override void Bind(IReadOnlyList<double> baseValues)
    {
        foreach (var s in _stages) s.Bind(baseValues);
    }

    public override double Value(double t, int group, double baseValue)
    {
        var k = ScheduleGuard.BisectRight(_boundaries, t);
        return _stages[k].Value(k == 0 ? t : t - _boundaries[k - 1], group, baseValue);
    }
}
