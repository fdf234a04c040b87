using System.Text.Json.Nodes;

namespace MLLrSched.Schedules;

/// <summary>
/// A hyperparameter schedule: for each parameter group, a value as a function of the time <c>t</c> — the number
/// of scheduler steps taken so far (PyTorch's <c>last_epoch</c>). Schedules never touch tensors; a
/// <see cref="Scheduler"/> evaluates them and writes the values into the optimizer's parameter groups.
/// </summary>
/// <remarks>
/// <para>Most schedules are pure functions of <c>t</c> (closed form), so resuming is evaluating at <c>t</c>.
/// The few that depend on history (<see cref="ReduceLROnPlateau"/>, <see cref="MultiplicativeLR"/>,
/// <see cref="ChainedScheduler"/>) keep that history as explicit state: <see cref="SaveState"/> returns it as
/// plain JSON and <see cref="LoadState"/> restores it.</para>
/// <para>A schedule instance serves one <see cref="Scheduler"/> at a time: binding it again resets its state.</para>
/// </remarks>
public abstract class Schedule
{
    /// <summary>The spec type name (PyTorch's class name or Hugging Face's schedule name), used in messages.</summary>
    public abstract string TypeName { get; }

    /// <summary>
    /// The value for parameter group <paramref name="group"/> at time <paramref name="t"/>, given the group's base
    /// value (its <c>initial_lr</c>, or <c>initial_&lt;field&gt;</c> for other hyperparameters).
    /// </summary>
    /// <param name="t">Scheduler steps taken (≥ 0). Fractional values are fractional epochs.</param>
    /// <param name="group">Index of the parameter group.</param>
    /// <param name="baseValue">The group's base value.</param>
    public abstract double Value(double t, int group, double baseValue);

    /// <summary>True when the schedule also cycles momentum (CyclicLR and OneCycleLR with <c>cycle_momentum</c>).
    /// The scheduler writes it to <c>beta1</c> when the group has one, else to <c>momentum</c>.</summary>
    public virtual bool DrivesMomentum => false;

    /// <summary>The momentum (or beta1) for <paramref name="group"/> at time <paramref name="t"/>.</summary>
    /// <exception cref="InvalidOperationException">The schedule does not drive momentum.</exception>
    public virtual double Momentum(double t, int group) =>
        throw new InvalidOperationException($"{TypeName} does not cycle momentum.");

    /// <summary>The length of one run of the schedule (T_max, total_iters, total_steps, ...), or null when it is
    /// open-ended. The timm cycle options (<see cref="Cycles"/>) repeat the schedule over this length.</summary>
    public virtual double? Horizon => null;

    /// <summary>False for schedules whose values do not derive from the group's base value (CyclicLR, OneCycleLR
    /// carry their own bounds).</summary>
    public virtual bool UsesBaseValue => true;

    /// <summary>True when the schedule reacts to a metric (ReduceLROnPlateau): the scheduler must then be stepped
    /// with one (<see cref="Scheduler.Step(double)"/>).</summary>
    public virtual bool UsesMetric => false;

    /// <summary>Reports the metric measured for step <paramref name="t"/>, before the values at <paramref name="t"/>
    /// are read. Schedules that do not use metrics ignore it.</summary>
    public virtual void Observe(double t, double metric) { }

    /// <summary>True when <see cref="SaveState"/> returns state that a resume needs.</summary>
    public virtual bool IsStateful => false;

    /// <summary>
    /// Attaches the schedule to parameter groups with these base values: checks per-group settings against the
    /// group count and resets any state. <see cref="Scheduler"/> calls it; call it yourself only when evaluating a
    /// schedule without a scheduler.
    /// </summary>
    /// <exception cref="ArgumentException">A per-group setting has the wrong number of values.</exception>
    public virtual void Bind(IReadOnlyList<double> baseValues) { }

    /// <summary>The schedule's state as plain JSON (null for pure schedules).</summary>
    public virtual JsonObject? SaveState() => null;

    /// <summary>Restores state returned by <see cref="SaveState"/> of an identically configured schedule.</summary>
    public virtual void LoadState(JsonObject? state) { }

    /// <summary>
    /// How PyTorch's ChainedScheduler (and SequentialLR between milestones) applies this schedule at step
    /// <paramref name="t"/> to the learning rate <paramref name="current"/> left by the previous step and the
    /// schedulers before it. Schedules that set an absolute value return <see cref="Value"/>; chainable ones
    /// (StepLR, ExponentialLR, ...) scale <paramref name="current"/> as PyTorch's recursive form does.
    /// </summary>
    protected internal virtual double ChainStep(long t, int group, double current, double baseValue) =>
        Value(t, group, baseValue);

    /// <summary>True when, as a later stage of SequentialLR, the schedule continues from the current value rather
    /// than restarting at its own start (MultiplicativeLR, which has no closed form in PyTorch).</summary>
    protected internal virtual bool ContinuesFromCurrentValue => false;

    /// <summary>Forwards <see cref="ChainStep"/> to a child schedule (for composites and wrappers).</summary>
    protected static double ChainStepOf(Schedule child, long t, int group, double current, double baseValue) =>
        child.ChainStep(t, group, current, baseValue);

    /// <summary>Whether a child continues from the current value (for composites).</summary>
    protected static bool ContinuesFromCurrent(Schedule child) => child.ContinuesFromCurrentValue;

    /// <inheritdoc />
    public override string ToString() => TypeName;
}
