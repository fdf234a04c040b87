using System.Text.Json.Nodes;

namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>ChainedScheduler</c>: every step applies each schedule, in order, to the value the previous ones
/// left — exactly as PyTorch's recursive (chainable) forms do, so multiplicative schedules multiply, an absolute one
/// (LambdaLR, OneCycleLR, ...) overrides what came before it, and CosineAnnealingLR rescales around eta_min. The
/// running value is state: stepping costs O(1) and it is saved for resume; jumping to another t replays from t = 0.
/// JSON: <c>{"type": "ChainedScheduler", "schedulers": [{"type": "ConstantLR", "factor": 0.1, "total_iters": 2},
/// {"type": "ExponentialLR", "gamma": 0.9}]}</c>.
/// </summary>
/// <remarks>The schedules are taken to be constructed in list order, as PyTorch code usually does: each PyTorch
/// scheduler applies its own first step when constructed.</remarks>
public sealed class ChainedScheduler : Schedule, IStatefulSchedule, IChainableSchedule, IMomentumSchedule, IMetricSchedule
{
    private readonly Schedule[] _children;
    private readonly IChainableSchedule?[] _chain;
    private readonly IMetricSchedule[] _metric;
    private readonly IMomentumSchedule? _momentum;
    private long[] _t = Array.Empty<long>();
    private double[] _x = Array.Empty<double>();

    /// <summary>Creates the schedule.</summary>
    /// <param name="schedulers"><c>schedulers</c>: the schedules (specs), applied in order every step.</param>
    public ChainedScheduler(IReadOnlyList<Schedule> schedulers)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        if (schedulers.Count == 0) throw new ArgumentException("ChainedScheduler: schedulers needs at least one schedule.", nameof(schedulers));
        if (schedulers.Any(s => s == null)) throw new ArgumentNullException(nameof(schedulers), "ChainedScheduler: schedulers contains null.");
        if (schedulers.Distinct(ReferenceEqualityComparer.Instance).Count() != schedulers.Count)
            throw new ArgumentException("ChainedScheduler: the same schedule instance appears twice; create one per position.", nameof(schedulers));
        _children = schedulers.ToArray();
        _chain = _children.Select(c => c.TryGet<IChainableSchedule>()).ToArray();
        _metric = _children.Select(c => c.TryGet<IMetricSchedule>()).OfType<IMetricSchedule>().ToArray();
        // The momentum written last each step is that of the last schedule in the chain that cycles it.
        _momentum = _children.Select(c => c.TryGet<IMomentumSchedule>()).LastOrDefault(m => m != null);
    }

    /// <summary><c>schedulers</c>.</summary>
    public IReadOnlyList<Schedule> Schedulers => _children;

    /// <inheritdoc />
    public override string TypeName => "ChainedScheduler";

    /// <summary>Always stateful (the running value) and chainable; cycles momentum and reacts to metrics when a
    /// schedule in the chain does.</summary>
    public override T? TryGet<T>() where T : class =>
        (typeof(T) == typeof(IMomentumSchedule) && _momentum == null) || (typeof(T) == typeof(IMetricSchedule) && _metric.Length == 0)
            ? null
            : base.TryGet<T>();

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues)
    {
        foreach (var c in _children) c.Bind(baseValues);
        _t = Enumerable.Repeat(-1L, baseValues.Count).ToArray();
        _x = baseValues.ToArray();
    }

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue)
    {
        if (group >= _t.Length)
            throw new InvalidOperationException("ChainedScheduler is not bound to parameter groups; attach it to a Scheduler (or call Bind) first.");
        if (t != Math.Floor(t))
            throw new ArgumentException($"ChainedScheduler moves in whole steps (as PyTorch's step() does); got t = {ScheduleGuard.F(t)}.", nameof(t));
        var target = (long)t;
        if (target == _t[group]) return _x[group];
        if (target < _t[group] || target > _t[group] + 1)
        {
            if (_metric.Length > 0)
                throw new InvalidOperationException(
                    $"ChainedScheduler holds ReduceLROnPlateau, which depends on the metric history, so it can only advance one step at a time (from {_t[group]} to {target} requested).");
            if (target < _t[group])
            {
                _t[group] = -1;
                _x[group] = baseValue;
            }
        }
        var x = _x[group];
        for (var s = _t[group] + 1; s <= target; s++) x = ChainStep(s, group, x, baseValue);
        _x[group] = x;
        _t[group] = target;
        return x;
    }

    /// <inheritdoc />
    public double ChainStep(long t, int group, double current, double baseValue)
    {
        var x = current;
        for (var i = 0; i < _children.Length; i++) x = Chaining.Step(_children[i], _chain[i], t, group, x, baseValue);
        return x;
    }

    /// <summary>The momentum written last each step: that of the last schedule in the chain that cycles it.</summary>
    /// <exception cref="InvalidOperationException">No schedule in the chain cycles momentum.</exception>
    public double Momentum(double t, int group) =>
        (_momentum ?? throw new InvalidOperationException("No schedule in this ChainedScheduler cycles momentum.")).Momentum(t, group);

    /// <inheritdoc />
    public void Observe(double t, double metric)
    {
        foreach (var m in _metric) m.Observe(t, metric);
    }

    /// <inheritdoc />
    public JsonObject? SaveState()
    {
        var children = new JsonArray();
        foreach (var c in _children) children.Add(c.TryGet<IStatefulSchedule>()?.SaveState());
        return new JsonObject
        {
            ["t"] = new JsonArray(_t.Select(x => (JsonNode)x).ToArray()),
            ["value"] = StateJson.Numbers(_x),
            ["schedulers"] = children,
        };
    }

    /// <inheritdoc />
    public void LoadState(JsonObject? state)
    {
        var n = _t.Length;
        var ts = (StateJson.Get(state, "t", TypeName) as JsonArray)?.Select(x => x!.GetValue<long>()).ToArray()
                 ?? throw new FormatException("ChainedScheduler state: 't' must be an array.");
        if (ts.Length != n) throw new FormatException($"ChainedScheduler state has {ts.Length} groups, this schedule {n}.");
        var x = StateJson.ReadNumbers(state!["value"], n, "ChainedScheduler value");
        var children = (JsonArray)state["schedulers"]!;
        if (children.Count != _children.Length)
            throw new FormatException($"ChainedScheduler state has {children.Count} schedulers, this schedule {_children.Length}.");
        for (var i = 0; i < _children.Length; i++) _children[i].TryGet<IStatefulSchedule>()?.LoadState(children[i] as JsonObject);
        _t = ts;
        _x = x;
    }
}
