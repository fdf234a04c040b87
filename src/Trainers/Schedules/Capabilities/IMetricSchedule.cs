namespace MLLrSched.Schedules;

/// <summary>
/// A schedule that reacts to a metric (ReduceLROnPlateau): its scheduler must be stepped with one
/// (<see cref="Scheduler.Step(double)"/>).
/// </summary>
public interface IMetricSchedule
{
    /// <summary>Reports the metric measured for step <paramref name="t"/>, before the values at <paramref name="t"/>
    /// are read.</summary>
    void Observe(double t, double metric);
}
