namespace MLLrSched.Schedules;

/// <summary>A schedule built from a JSON spec, with the top-level driver keys of that spec.</summary>
/// <param name="Schedule">The schedule.</param>
/// <param name="ParamGroupField"><c>param_group_field</c>: the hyperparameter it drives (default <c>lr</c>).</param>
/// <param name="Interval"><c>interval</c>: <c>"step"</c> or <c>"epoch"</c>, when given.</param>
/// <param name="LastEpoch"><c>last_epoch</c>, when given (PyTorch's resume position; -1 = fresh).</param>
public sealed record ScheduleSpec(Schedule Schedule, string ParamGroupField = "lr", StepInterval? Interval = null, long? LastEpoch = null)
{
    /// <summary>The binding for a <see cref="Scheduler"/>.</summary>
    public ScheduleBinding ToBinding() => new(Schedule, ParamGroupField);
}
