namespace MLLrSched.Schedules;

/// <summary>The amplitude policy of <see cref="CyclicLR"/>.</summary>
public enum CyclicMode
{
    /// <summary><c>triangular</c>: constant amplitude.</summary>
    Triangular,

    /// <summary><c>triangular2</c>: amplitude halves every cycle.</summary>
    Triangular2,

    /// <summary><c>exp_range</c>: amplitude scales by gamma<sup>t</sup>.</summary>
    ExpRange,
}

/// <summary>What a custom <see cref="CyclicLR"/> scale function receives.</summary>
public enum CyclicScaleMode
{
    /// <summary><c>cycle</c>: the cycle number (1, 2, ...).</summary>
    Cycle,

    /// <summary><c>iterations</c>: the step t.</summary>
    Iterations,
}

/// <summary>
/// PyTorch's <c>CyclicLR</c> (Smith's cyclical learning rates): the value goes from base_lr up to max_lr in
/// step_size_up steps and back down in step_size_down, with the amplitude scaled by the mode's policy or a custom
/// scale function; momentum (or beta1) cycles inversely between max_momentum and base_momentum. Ignores the
/// optimizer's lr. JSON: <c>{"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 2000,
/// "mode": "triangular2"}</c>; a custom <c>"scale_fn": "1 / (2.0 ** (x - 1))"</c> is an expression in <c>x</c>.
/// </summary>
/// <remarks>PyTorch 1.13 cycles only <c>momentum</c> here; like later PyTorch versions (and OneCycleLR), this
/// cycles <c>beta1</c> for Adam-style groups.</remarks>
public sealed class CyclicLR : Schedule, IMomentumSchedule
{
    private const double DefaultBaseMomentum = 0.8, DefaultMaxMomentum = 0.9;
    private readonly Func<double, double> _scale;

    /// <summary>Creates the schedule.</summary>
    /// <param name="baseLr"><c>base_lr</c>: lower bound, a number or a per-group list, ≥ 0.</param>
    /// <param name="maxLr"><c>max_lr</c>: upper bound, a number or a per-group list, ≥ base_lr.</param>
    /// <param name="stepSizeUp"><c>step_size_up</c>: steps of the rising half, &gt; 0.</param>
    /// <param name="stepSizeDown"><c>step_size_down</c>: steps of the falling half, ≥ 0; when absent, step_size_up.</param>
    /// <param name="mode"><c>mode</c>: the amplitude policy: <c>triangular</c> (constant), <c>triangular2</c> (halved each cycle), <c>exp_range</c> (× gamma<sup>t</sup>); ignored with a custom <paramref name="scaleFn"/>.</param>
    /// <param name="gamma"><c>gamma</c>: base of exp_range's gamma<sup>t</sup>, &gt; 0.</param>
    /// <param name="scaleFn"><c>scale_fn</c>: custom amplitude scale, an expression in <c>x</c> with 0 ≤ scale_fn(x) ≤ 1; overrides mode.</param>
    /// <param name="scaleMode"><c>scale_mode</c>: what scale_fn receives: <c>cycle</c> (the cycle number) or <c>iterations</c> (t). The built-in modes fix it
    /// (triangular, triangular2: cycle; exp_range: iterations), as in PyTorch.</param>
    /// <param name="cycleMomentum"><c>cycle_momentum</c>: also cycle momentum/beta1.</param>
    /// <param name="baseMomentum"><c>base_momentum</c>: momentum at the peak of the lr, a number or a per-group list.</param>
    /// <param name="maxMomentum"><c>max_momentum</c>: momentum at the start of a cycle, a number or a per-group list.</param>
    public CyclicLR(GroupValues baseLr, GroupValues maxLr, double stepSizeUp = 2000, double? stepSizeDown = null,
        CyclicMode mode = CyclicMode.Triangular, double gamma = 1.0, [SpecExpression("x")] Func<double, double>? scaleFn = null,
        CyclicScaleMode scaleMode = CyclicScaleMode.Cycle, bool cycleMomentum = true,
        [SpecDefault(DefaultBaseMomentum)] GroupValues? baseMomentum = null, [SpecDefault(DefaultMaxMomentum)] GroupValues? maxMomentum = null)
    {
        baseLr.Check(v => v >= 0 && double.IsFinite(v), TypeName, "base_lr", "≥ 0 and finite");
        maxLr.Check(v => v >= 0 && double.IsFinite(v), TypeName, "max_lr", "≥ 0 and finite");
        BaseLr = baseLr;
        MaxLr = maxLr;
        StepSizeUp = ScheduleGuard.Positive(TypeName, "step_size_up", stepSizeUp);
        StepSizeDown = ScheduleGuard.NonNegative(TypeName, "step_size_down", stepSizeDown ?? stepSizeUp);
        Mode = mode;
        Gamma = ScheduleGuard.Positive(TypeName, "gamma", gamma);
        CustomScale = scaleFn != null;
        (ScaleMode, _scale) = scaleFn != null
            ? (scaleMode, scaleFn)
            : mode switch
            {
                CyclicMode.Triangular => (CyclicScaleMode.Cycle, (Func<double, double>)(_ => 1.0)),
                CyclicMode.Triangular2 => (CyclicScaleMode.Cycle, x => 1 / Math.Pow(2.0, x - 1)),
                CyclicMode.ExpRange => (CyclicScaleMode.Iterations, x => Math.Pow(gamma, x)),
                _ => throw new ArgumentOutOfRangeException(nameof(mode), $"CyclicLR: mode must be triangular, triangular2 or exp_range, got {mode}."),
            };
        CycleMomentum = cycleMomentum;
        BaseMomentum = baseMomentum ?? DefaultBaseMomentum;
        MaxMomentum = maxMomentum ?? DefaultMaxMomentum;
        BaseMomentum.Check(v => v >= 0 && double.IsFinite(v), TypeName, "base_momentum", "≥ 0 and finite");
        MaxMomentum.Check(v => v >= 0 && double.IsFinite(v), TypeName, "max_momentum", "≥ 0 and finite");
        TotalSize = StepSizeUp + StepSizeDown;
        StepRatio = StepSizeUp / TotalSize;
    }

    /// <summary><c>base_lr</c>.</summary>
    public GroupValues BaseLr { get; }

    /// <summary><c>max_lr</c>.</summary>
    public GroupValues MaxLr { get; }

    /// <summary><c>step_size_up</c>.</summary>
    public double StepSizeUp { get; }

    /// <summary><c>step_size_down</c>.</summary>
    public double StepSizeDown { get; }

    /// <summary><c>mode</c>.</summary>
    public CyclicMode Mode { get; }

    /// <summary><c>gamma</c>.</summary>
    public double Gamma { get; }

    /// <summary>True when a custom scale_fn is used.</summary>
    public bool CustomScale { get; }

    /// <summary>The effective <c>scale_mode</c>.</summary>
    public CyclicScaleMode ScaleMode { get; }

    /// <summary><c>cycle_momentum</c>.</summary>
    public bool CycleMomentum { get; }

    /// <summary><c>base_momentum</c>.</summary>
    public GroupValues BaseMomentum { get; }

    /// <summary><c>max_momentum</c>.</summary>
    public GroupValues MaxMomentum { get; }

    private double TotalSize { get; }
    private double StepRatio { get; }

    /// <inheritdoc />
    public override string TypeName => "CyclicLR";

    /// <inheritdoc />
    public override bool UsesBaseValue => false;

    /// <summary>Cycles momentum only with <c>cycle_momentum</c>.</summary>
    public override T? TryGet<T>() where T : class =>
        typeof(T) == typeof(IMomentumSchedule) && !CycleMomentum ? null : base.TryGet<T>();

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues)
    {
        var n = baseValues.Count;
        BaseLr.CheckGroupCount(n, TypeName, "base_lr");
        MaxLr.CheckGroupCount(n, TypeName, "max_lr");
        BaseMomentum.CheckGroupCount(n, TypeName, "base_momentum");
        MaxMomentum.CheckGroupCount(n, TypeName, "max_momentum");
        for (var g = 0; g < n; g++)
            if (MaxLr[g] < BaseLr[g])
                throw new ArgumentOutOfRangeException("max_lr",
                    $"CyclicLR: max_lr must be ≥ base_lr, got max_lr {ScheduleGuard.F(MaxLr[g])} < base_lr {ScheduleGuard.F(BaseLr[g])} for parameter group {g}.");
    }

    private (double ScaleFactor, double Scale) Shape(double t)
    {
        var cycle = Math.Floor(1 + t / TotalSize);
        var x = 1.0 + t / TotalSize - cycle;
        var scaleFactor = x <= StepRatio ? x / StepRatio : (x - 1) / (StepRatio - 1);
        return (scaleFactor, _scale(ScaleMode == CyclicScaleMode.Cycle ? cycle : t));
    }

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue)
    {
        var (sf, scale) = Shape(t);
        var baseHeight = (MaxLr[group] - BaseLr[group]) * sf;
        return BaseLr[group] + baseHeight * scale;
    }

    /// <summary>The momentum (or beta1) at time <paramref name="t"/>, cycling inversely to the lr.</summary>
    /// <exception cref="InvalidOperationException"><c>cycle_momentum</c> is false.</exception>
    public double Momentum(double t, int group)
    {
        if (!CycleMomentum) throw new InvalidOperationException("CyclicLR was created with cycle_momentum = false; it does not cycle momentum.");
        var (sf, scale) = Shape(t);
        var baseHeight = (MaxMomentum[group] - BaseMomentum[group]) * sf;
        return MaxMomentum[group] - baseHeight * scale;
    }
}
