namespace MLLrSched.Schedules;

/// <summary>
/// A schedule with PyTorch's recursive ("chainable") form: how it moves the value left by the previous step and
/// by the schedules before it in a ChainedScheduler (and in SequentialLR between milestones). A schedule without
/// this capability sets its absolute <see cref="Schedule.Value"/> there, as PyTorch's closed-form-only schedulers
/// (LambdaLR, OneCycleLR, ...) do.
/// </summary>
public interface IChainableSchedule
{
    /// <summary>The value at step <paramref name="t"/> given the learning rate <paramref name="current"/> left by
    /// the previous step and the schedulers before it (StepLR, ExponentialLR, ... scale it).</summary>
    double ChainStep(long t, int group, double current, double baseValue);

    /// <summary>True when, as a later stage of SequentialLR, the schedule continues from the current value rather
    /// than restarting at its own start (MultiplicativeLR, which has no closed form in PyTorch).</summary>
    bool ContinuesFromCurrentValue => false;
}

/// <summary>Steps a schedule the torch-chaining way, whether or not it is chainable.</summary>
internal static class Chaining
{
    /// <summary><paramref name="chain"/>'s step when the schedule has one, else its absolute value.</summary>
    public static double Step(Schedule schedule, IChainableSchedule? chain, long t, int group, double current, double baseValue) =>
        chain != null ? chain.ChainStep(t, group, current, baseValue) : schedule.Value(t, group, baseValue);

    /// <summary>Whether the schedule continues from the current value in a SequentialLR.</summary>
    public static bool ContinuesFromCurrent(IChainableSchedule? chain) => chain?.ContinuesFromCurrentValue ?? false;
}
