namespace MLLrSched.Schedules;

/// <summary>A schedule under another type name (<see cref="Schedule.Named"/>); everything else is the schedule's.</summary>
internal sealed class NamedSchedule(Schedule inner, string typeName) : ScheduleWrapper(inner)
{
    public override string TypeName { get; } = string.IsNullOrWhiteSpace(typeName)
        ? throw new ArgumentException("A schedule's type name must not be empty.", nameof(typeName))
        : typeName;

    /// <summary>A new name does not change how the schedule chains, so unlike other wrappers it keeps that too.</summary>
    public override T? TryGet<T>() where T : class =>
        typeof(T) == typeof(IChainableSchedule) ? Inner.TryGet<T>() : base.TryGet<T>();

    public override double Value(double t, int group, double baseValue) => Inner.Value(t, group, baseValue);
}
