namespace MLLrSched.Schedules;

/// <summary>
/// A hyperparameter schedule: for each parameter group, a value as a function of the time <c>t</c> — the number
/// of scheduler steps taken so far (PyTorch's <c>last_epoch</c>) — and the group's base value. Schedules never
/// touch tensors; a <see cref="Scheduler"/> evaluates them and writes the values into the optimizer's groups.
/// </summary>
/// <remarks>
/// <para>The core is a pure function of <c>t</c> with an optional <see cref="Horizon"/>, so resuming is evaluating
/// at <c>t</c>. Everything else is an optional capability that a schedule has or not, asked for with
/// <see cref="TryGet{T}"/>: <see cref="IMomentumSchedule"/> (CyclicLR, OneCycleLR cycling momentum),
/// <see cref="IMetricSchedule"/> (ReduceLROnPlateau), <see cref="IStatefulSchedule"/> (history to checkpoint) and
/// <see cref="IChainableSchedule"/> (PyTorch's recursive form, for ChainedScheduler and SequentialLR).</para>
/// <para>Compose pure schedules with <see cref="Join"/>, <see cref="Scale"/> and <see cref="WarmupThen"/> rather
/// than writing a class.</para>
/// <para>A schedule instance serves one <see cref="Scheduler"/> at a time: binding it again resets its state.</para>
/// </remarks>
public abstract partial class Schedule
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

    /// <summary>The length of one run of the schedule (T_max, total_iters, total_steps, ...), or null when it is
    /// open-ended. The timm cycle options (<see cref="Cycles"/>) repeat the schedule over this length.</summary>
    public virtual double? Horizon => null;

    /// <summary>False for schedules whose values do not derive from the group's base value (CyclicLR, OneCycleLR
    /// carry their own bounds); scaling such a schedule scales its output instead of its base.</summary>
    public virtual bool UsesBaseValue => true;

    /// <summary>
    /// Attaches the schedule to parameter groups with these base values: checks per-group settings against the
    /// group count and resets any state. <see cref="Scheduler"/> calls it; call it yourself only when evaluating a
    /// schedule without a scheduler.
    /// </summary>
    /// <exception cref="ArgumentException">A per-group setting has the wrong number of values, or a base value
    /// does not suit the schedule.</exception>
    public virtual void Bind(IReadOnlyList<double> baseValues) { }

    /// <summary>
    /// An optional capability of this schedule (<see cref="IMomentumSchedule"/>, <see cref="IMetricSchedule"/>,
    /// <see cref="IStatefulSchedule"/>, <see cref="IChainableSchedule"/>), or null when it has none. By default a
    /// schedule has the capabilities it implements; wrappers and composites override this to have exactly those
    /// of what they hold, and a schedule whose capability is switched off by a setting (OneCycleLR without
    /// <c>cycle_momentum</c>) to drop it.
    /// </summary>
    public virtual T? TryGet<T>() where T : class => this as T;

    /// <inheritdoc />
    public override string ToString() => TypeName;
}
