namespace MLLrSched.Schedules;

/// <summary>A schedule and the parameter-group hyperparameter it drives.</summary>
/// <param name="Schedule">The schedule.</param>
/// <param name="ParamGroupField">The hyperparameter it writes (timm's <c>param_group_field</c>): <c>lr</c> (default),
/// <c>weight_decay</c>, <c>momentum</c>, <c>beta1</c>, ... Its base value is the group's <c>initial_&lt;field&gt;</c>,
/// set from the current value when absent.</param>
public sealed record ScheduleBinding(Schedule Schedule, string ParamGroupField = "lr");
