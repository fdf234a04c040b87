using System.Text.Json.Nodes;

namespace MLLrSched.Schedules;

/// <summary>Whether <see cref="ReduceLROnPlateau"/> waits for the metric to stop decreasing or increasing.</summary>
public enum PlateauMode
{
    /// <summary><c>min</c>: lower is better (a loss).</summary>
    Min,

    /// <summary><c>max</c>: higher is better (an accuracy).</summary>
    Max,
}

/// <summary>How <see cref="ReduceLROnPlateau"/> decides that a metric improved.</summary>
public enum ThresholdMode
{
    /// <summary><c>rel</c>: better than best · (1 ∓ threshold).</summary>
    Rel,

    /// <summary><c>abs</c>: better than best ∓ threshold.</summary>
    Abs,
}

/// <summary>
/// PyTorch's <c>ReduceLROnPlateau</c>, as a schedule like the others: after more than <c>patience</c> steps without
/// improvement the value is multiplied by <c>factor</c> (not below <c>min_lr</c>), then <c>cooldown</c> steps are
/// ignored. It reacts to the metric given to <see cref="Scheduler.Step(double)"/>; its state (current values, best
/// metric, counters) is saved and restored with the scheduler. It composes: with the timm warmup keys
/// (<c>warmup_t</c>), inside SequentialLR after a warmup stage, and inside ChainedScheduler.
/// JSON: <c>{"type": "ReduceLROnPlateau", "mode": "min", "factor": 0.5, "patience": 3}</c>.
/// </summary>
public sealed class ReduceLROnPlateau : Schedule, IMetricSchedule, IStatefulSchedule, IChainableSchedule
{
    private const double DefaultMinLr = 0;
    private double[] _current = Array.Empty<double>();
    private double _best;
    private long _numBadEpochs;
    private long _cooldownCounter;
    private long _lastEpoch;
    private double _reducedAt = double.NaN;

    /// <summary>Creates the schedule.</summary>
    /// <param name="mode"><c>mode</c>: <c>min</c> (lower is better) or <c>max</c>.</param>
    /// <param name="factor"><c>factor</c>: reduction factor, new value = value · factor, in [0, 1).</param>
    /// <param name="patience"><c>patience</c>: steps without improvement tolerated, ≥ 0.</param>
    /// <param name="threshold"><c>threshold</c>: smallest significant improvement, ≥ 0.</param>
    /// <param name="thresholdMode"><c>threshold_mode</c>: <c>rel</c>: better than best · (1 ∓ threshold); <c>abs</c>: better than best ∓ threshold.</param>
    /// <param name="cooldown"><c>cooldown</c>: steps to wait after a reduction, ≥ 0.</param>
    /// <param name="minLr"><c>min_lr</c>: lower bound, a number or a per-group list, ≥ 0.</param>
    /// <param name="eps"><c>eps</c>: reductions smaller than this are skipped, ≥ 0.</param>
    public ReduceLROnPlateau(PlateauMode mode = PlateauMode.Min, double factor = 0.1, long patience = 10,
        double threshold = 1e-4, ThresholdMode thresholdMode = ThresholdMode.Rel, long cooldown = 0,
        [SpecDefault(DefaultMinLr)] GroupValues? minLr = null, double eps = 1e-8)
    {
        Mode = mode;
        if (!(factor >= 0 && factor < 1)) ScheduleGuard.Fail(TypeName, "factor", "in [0, 1)", factor);
        Factor = factor;
        Patience = ScheduleGuard.AtLeast(TypeName, "patience", patience, 0);
        Threshold = ScheduleGuard.NonNegative(TypeName, "threshold", threshold);
        ThresholdMode = thresholdMode;
        Cooldown = ScheduleGuard.AtLeast(TypeName, "cooldown", cooldown, 0);
        MinLr = minLr ?? DefaultMinLr;
        MinLr.Check(v => v >= 0 && double.IsFinite(v), TypeName, "min_lr", "≥ 0 and finite");
        Eps = ScheduleGuard.NonNegative(TypeName, "eps", eps);
        _best = WorstMetric;
    }

    /// <summary><c>mode</c>.</summary>
    public PlateauMode Mode { get; }

    /// <summary><c>factor</c>.</summary>
    public double Factor { get; }

    /// <summary><c>patience</c>.</summary>
    public long Patience { get; }

    /// <summary><c>threshold</c>.</summary>
    public double Threshold { get; }

    /// <summary><c>threshold_mode</c>.</summary>
    public ThresholdMode ThresholdMode { get; }

    /// <summary><c>cooldown</c>.</summary>
    public long Cooldown { get; }

    /// <summary><c>min_lr</c>.</summary>
    public GroupValues MinLr { get; }

    /// <summary><c>eps</c>.</summary>
    public double Eps { get; }

    /// <summary>The best metric so far.</summary>
    public double Best => _best;

    /// <summary>Steps since the last improvement.</summary>
    public long NumBadEpochs => _numBadEpochs;

    /// <summary>Steps of cooldown left.</summary>
    public long CooldownCounter => _cooldownCounter;

    private double WorstMetric => Mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;

    /// <inheritdoc />
    public override string TypeName => "ReduceLROnPlateau";

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues)
    {
        MinLr.CheckGroupCount(baseValues.Count, TypeName, "min_lr");
        _current = baseValues.ToArray();
        _best = WorstMetric;
        _numBadEpochs = 0;
        _cooldownCounter = 0;
        _lastEpoch = 0;
        _reducedAt = double.NaN;
    }

    private bool IsBetter(double a, double best) => (Mode, ThresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Rel) => a < best * (1.0 - Threshold),
        (PlateauMode.Min, ThresholdMode.Abs) => a < best - Threshold,
        (PlateauMode.Max, ThresholdMode.Rel) => a > best * (Threshold + 1.0),
        _ => a > best + Threshold,
    };

    /// <inheritdoc />
    public void Observe(double t, double metric)
    {
        _lastEpoch++;
        if (IsBetter(metric, _best))
        {
            _best = metric;
            _numBadEpochs = 0;
        }
        else
        {
            _numBadEpochs++;
        }
        if (_cooldownCounter > 0)
        {
            _cooldownCounter--;
            _numBadEpochs = 0;
        }
        if (_numBadEpochs > Patience)
        {
            for (var g = 0; g < _current.Length; g++) _current[g] = Reduce(_current[g], g);
            _reducedAt = t;
            _cooldownCounter = Cooldown;
            _numBadEpochs = 0;
        }
    }

    private double Reduce(double old, int group)
    {
        var reduced = Math.Max(old * Factor, MinLr[group]);
        return old - reduced > Eps ? reduced : old;
    }

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue)
    {
        if (group >= _current.Length)
            throw new InvalidOperationException("ReduceLROnPlateau is not bound to parameter groups; attach it to a Scheduler (or call Bind) first.");
        return _current[group];
    }

    /// <summary>In a chain, a reduction decided at this step scales the incoming value.</summary>
    public double ChainStep(long t, int group, double current, double baseValue) =>
        _reducedAt == t ? Reduce(current, group) : current;

    /// <inheritdoc />
    public JsonObject? SaveState() => new()
    {
        ["current"] = StateJson.Numbers(_current),
        ["best"] = StateJson.Number(_best),
        ["num_bad_epochs"] = _numBadEpochs,
        ["cooldown_counter"] = _cooldownCounter,
        ["last_epoch"] = _lastEpoch,
        ["reduced_at"] = StateJson.Number(_reducedAt),
    };

    /// <inheritdoc />
    public void LoadState(JsonObject? state)
    {
        _current = StateJson.ReadNumbers(StateJson.Get(state, "current", TypeName), _current.Length, "ReduceLROnPlateau current");
        _best = StateJson.ReadNumber(state!["best"]);
        _numBadEpochs = state["num_bad_epochs"]!.GetValue<long>();
        _cooldownCounter = state["cooldown_counter"]!.GetValue<long>();
        _lastEpoch = state["last_epoch"]!.GetValue<long>();
        _reducedAt = StateJson.ReadNumber(state["reduced_at"]);
    }
}
