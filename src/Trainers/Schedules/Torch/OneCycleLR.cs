namespace MLLrSched.Schedules;

/// <summary>How <see cref="OneCycleLR"/> moves between its phase values.</summary>
public enum AnnealStrategy
{
    /// <summary><c>cos</c>: cosine annealing.</summary>
    Cos,

    /// <summary><c>linear</c>: linear annealing.</summary>
    Linear,
}

/// <summary>
/// PyTorch's <c>OneCycleLR</c> (Smith's 1cycle): from max_lr/div_factor up to max_lr over pct_start of the run, then
/// down to max_lr/(div_factor·final_div_factor); momentum (or beta1) moves inversely. With three_phase the descent
/// first returns symmetrically to the start value, then anneals to the minimum. Ignores the optimizer's lr.
/// JSON: <c>{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 1000, "anneal_strategy": "linear"}</c>.
/// </summary>
/// <remarks>As in PyTorch, the value at t = total_steps (after the last optimizer step) is defined; stepping past it
/// throws an <see cref="InvalidOperationException"/> that says which setting to change.</remarks>
public sealed class OneCycleLR : Schedule, IMomentumSchedule
{
    private const double DefaultBaseMomentum = 0.85, DefaultMaxMomentum = 0.95;
    private readonly record struct Phase(double EndStep, int StartLr, int EndLr, int StartMomentum, int EndMomentum);

    // Indices into the per-group value table: initial, max, min lr; max, base momentum.
    private const int Initial = 0, Max = 1, Min = 2, MaxMom = 3, BaseMom = 4;
    private readonly Phase[] _phases;
    private readonly string _sizedBy;

    /// <summary>Creates the schedule.</summary>
    /// <param name="maxLr"><c>max_lr</c>: the peak, a number or a per-group list, ≥ 0.</param>
    /// <param name="totalSteps"><c>total_steps</c>: steps in the cycle, ≥ 1; when absent, epochs × steps_per_epoch.</param>
    /// <param name="epochs"><c>epochs</c>: with steps_per_epoch, sizes the cycle when total_steps is absent; ≥ 1.</param>
    /// <param name="stepsPerEpoch"><c>steps_per_epoch</c>: see epochs; ≥ 1.</param>
    /// <param name="pctStart"><c>pct_start</c>: fraction of the cycle spent rising, in [0, 1].</param>
    /// <param name="annealStrategy"><c>anneal_strategy</c>: <c>cos</c> or <c>linear</c>.</param>
    /// <param name="cycleMomentum"><c>cycle_momentum</c>: also cycle momentum/beta1.</param>
    /// <param name="baseMomentum"><c>base_momentum</c>: momentum at the lr peak, a number or a per-group list.</param>
    /// <param name="maxMomentum"><c>max_momentum</c>: momentum at the start and end, a number or a per-group list.</param>
    /// <param name="divFactor"><c>div_factor</c>: initial lr = max_lr / div_factor, &gt; 0.</param>
    /// <param name="finalDivFactor"><c>final_div_factor</c>: min lr = initial lr / final_div_factor, &gt; 0.</param>
    /// <param name="threePhase"><c>three_phase</c>: the paper's three phases instead of fastai's two.</param>
    public OneCycleLR(GroupValues maxLr, long? totalSteps = null, long? epochs = null, long? stepsPerEpoch = null,
        double pctStart = 0.3, AnnealStrategy annealStrategy = AnnealStrategy.Cos, bool cycleMomentum = true,
        [SpecDefault(DefaultBaseMomentum)] GroupValues? baseMomentum = null, [SpecDefault(DefaultMaxMomentum)] GroupValues? maxMomentum = null, double divFactor = 25.0,
        double finalDivFactor = 1e4, bool threePhase = false)
    {
        if (totalSteps is { } ts)
        {
            TotalSteps = ScheduleGuard.AtLeast(TypeName, "total_steps", ts, 1);
            _sizedBy = $"total_steps = {ts}";
        }
        else if (epochs is { } e && stepsPerEpoch is { } s)
        {
            ScheduleGuard.AtLeast(TypeName, "epochs", e, 1);
            ScheduleGuard.AtLeast(TypeName, "steps_per_epoch", s, 1);
            TotalSteps = e * s;
            _sizedBy = $"epochs × steps_per_epoch = {e} × {s} = {e * s}";
        }
        else
        {
            throw new ArgumentException(
                "OneCycleLR: give total_steps, or both epochs and steps_per_epoch (total_steps = epochs × steps_per_epoch).",
                nameof(totalSteps));
        }
        maxLr.Check(v => v >= 0 && double.IsFinite(v), TypeName, "max_lr", "≥ 0 and finite");
        MaxLr = maxLr;
        PctStart = ScheduleGuard.InRange(TypeName, "pct_start", pctStart, 0, 1);
        AnnealStrategy = annealStrategy;
        CycleMomentum = cycleMomentum;
        BaseMomentum = baseMomentum ?? DefaultBaseMomentum;
        MaxMomentum = maxMomentum ?? DefaultMaxMomentum;
        BaseMomentum.Check(v => v >= 0 && double.IsFinite(v), TypeName, "base_momentum", "≥ 0 and finite");
        MaxMomentum.Check(v => v >= 0 && double.IsFinite(v), TypeName, "max_momentum", "≥ 0 and finite");
        DivFactor = ScheduleGuard.Positive(TypeName, "div_factor", divFactor);
        FinalDivFactor = ScheduleGuard.Positive(TypeName, "final_div_factor", finalDivFactor);
        ThreePhase = threePhase;

        var T = TotalSteps;
        _phases = threePhase
            ? new[]
            {
                new Phase(pctStart * T - 1, Initial, Max, MaxMom, BaseMom),
                new Phase(2 * pctStart * T - 2, Max, Initial, BaseMom, MaxMom),
                new Phase(T - 1, Initial, Min, MaxMom, MaxMom),
            }
            : new[]
            {
                new Phase(pctStart * T - 1, Initial, Max, MaxMom, BaseMom),
                new Phase(T - 1, Max, Min, BaseMom, MaxMom),
            };
        // PyTorch divides by each phase's length; a used phase of length zero is a ZeroDivisionError there.
        var lastStart = _phases[^2].EndStep;
        if (_phases[0].EndStep == 0)
            throw new ArgumentException(
                $"OneCycleLR: pct_start × total_steps = {ScheduleGuard.F(pctStart * T)} makes the warm-up phase end at step 0 (zero length). Change pct_start or total_steps.",
                nameof(pctStart));
        if (_phases[^1].EndStep == lastStart)
            throw new ArgumentException(
                $"OneCycleLR: pct_start = {ScheduleGuard.F(pctStart)} with total_steps = {T} leaves the last phase zero steps. Lower pct_start or raise total_steps.",
                nameof(pctStart));
    }

    /// <summary>The total number of steps in the cycle.</summary>
    public long TotalSteps { get; }

    /// <summary><c>max_lr</c>.</summary>
    public GroupValues MaxLr { get; }

    /// <summary><c>pct_start</c>.</summary>
    public double PctStart { get; }

    /// <summary><c>anneal_strategy</c>.</summary>
    public AnnealStrategy AnnealStrategy { get; }

    /// <summary><c>cycle_momentum</c>.</summary>
    public bool CycleMomentum { get; }

    /// <summary><c>base_momentum</c>.</summary>
    public GroupValues BaseMomentum { get; }

    /// <summary><c>max_momentum</c>.</summary>
    public GroupValues MaxMomentum { get; }

    /// <summary><c>div_factor</c>.</summary>
    public double DivFactor { get; }

    /// <summary><c>final_div_factor</c>.</summary>
    public double FinalDivFactor { get; }

    /// <summary><c>three_phase</c>.</summary>
    public bool ThreePhase { get; }

    /// <inheritdoc />
    public override string TypeName => "OneCycleLR";

    /// <inheritdoc />
    public override double? Horizon => TotalSteps;

    /// <inheritdoc />
    public override bool UsesBaseValue => false;

    /// <summary>Cycles momentum only with <c>cycle_momentum</c>.</summary>
    public override T? TryGet<T>() where T : class =>
        typeof(T) == typeof(IMomentumSchedule) && !CycleMomentum ? null : base.TryGet<T>();

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues)
    {
        MaxLr.CheckGroupCount(baseValues.Count, TypeName, "max_lr");
        BaseMomentum.CheckGroupCount(baseValues.Count, TypeName, "base_momentum");
        MaxMomentum.CheckGroupCount(baseValues.Count, TypeName, "max_momentum");
    }

    private double Level(int which, int group)
    {
        var initial = MaxLr[group] / DivFactor;
        return which switch
        {
            Initial => initial,
            Max => MaxLr[group],
            Min => initial / FinalDivFactor,
            MaxMom => MaxMomentum[group],
            _ => BaseMomentum[group],
        };
    }

    private double Anneal(double start, double end, double pct)
    {
        if (AnnealStrategy == AnnealStrategy.Linear) return (end - start) * pct + start;
        var cosOut = Math.Cos(Math.PI * pct) + 1;
        return end + (start - end) / 2.0 * cosOut;
    }

    private double Evaluate(double t, int group, bool momentum)
    {
        if (t > TotalSteps)
            throw new InvalidOperationException(
                $"OneCycleLR was stepped to step {ScheduleGuard.F(t)}, past the end of its cycle ({_sizedBy}); it can give values " +
                $"for steps 0..{TotalSteps} only, i.e. for {TotalSteps} optimizer steps. Size the cycle for the steps you run: set " +
                "total_steps (or epochs × steps_per_epoch) to at least the number of optimizer steps in training — count every " +
                "epoch's batches after gradient accumulation — or stop stepping the scheduler when the cycle ends.");
        double start = 0;
        for (var i = 0; i < _phases.Length; i++)
        {
            var p = _phases[i];
            if (t <= p.EndStep || i == _phases.Length - 1)
            {
                var pct = (t - start) / (p.EndStep - start);
                return momentum
                    ? Anneal(Level(p.StartMomentum, group), Level(p.EndMomentum, group), pct)
                    : Anneal(Level(p.StartLr, group), Level(p.EndLr, group), pct);
            }
            start = p.EndStep;
        }
        throw new InvalidOperationException("unreachable");
    }

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue) => Evaluate(t, group, momentum: false);

    /// <summary>The momentum (or beta1) at time <paramref name="t"/>, moving inversely to the lr.</summary>
    /// <exception cref="InvalidOperationException"><c>cycle_momentum</c> is false.</exception>
    public double Momentum(double t, int group) => CycleMomentum
        ? Evaluate(t, group, momentum: true)
        : throw new InvalidOperationException("OneCycleLR was created with cycle_momentum = false; it does not cycle momentum.");
}
