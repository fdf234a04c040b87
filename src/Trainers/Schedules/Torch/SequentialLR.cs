using System.Text.Json.Nodes;

namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>SequentialLR</c>: runs <c>schedulers[k]</c> from <c>milestones[k-1]</c> on, each restarted at its
/// own t = 0 at its milestone (as PyTorch's <c>step(0)</c> does), so the value is stage k's value at
/// t − milestones[k−1]. A MultiplicativeLR stage, which PyTorch cannot restart, continues from the current value.
/// Unlike PyTorch, a stage may be ReduceLROnPlateau: metrics go to the running stage (from its second step on),
/// which makes "warmup, then reduce on plateau" a SequentialLR.
/// JSON: <c>{"type": "SequentialLR", "schedulers": [{"type": "LinearLR", "start_factor": 0.1, "total_iters": 5},
/// {"type": "CosineAnnealingLR", "T_max": 95}], "milestones": [5]}</c>.
/// </summary>
public sealed class SequentialLR : Schedule, IChainableSchedule, IStatefulSchedule, IMomentumSchedule, IMetricSchedule
{
    private readonly Schedule[] _stages;
    private readonly IChainableSchedule?[] _chain;
    private readonly IMomentumSchedule?[] _momentum;
    private readonly IMetricSchedule?[] _metric;
    private readonly IStatefulSchedule?[] _stateful;
    private readonly bool _isStateful;
    private readonly long[] _milestones;
    private double[][] _incoming = Array.Empty<double[]>();

    /// <summary>Creates the schedule.</summary>
    /// <param name="schedulers"><c>schedulers</c>: the stages (specs), one more than milestones.</param>
    /// <param name="milestones"><c>milestones</c>: the steps at which each next stage starts, strictly increasing, ≥ 1.</param>
    public SequentialLR(IReadOnlyList<Schedule> schedulers, IEnumerable<long> milestones)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        ArgumentNullException.ThrowIfNull(milestones);
        if (schedulers.Count == 0) throw new ArgumentException("SequentialLR: schedulers needs at least one schedule.", nameof(schedulers));
        if (schedulers.Any(s => s == null)) throw new ArgumentNullException(nameof(schedulers), "SequentialLR: schedulers contains null.");
        if (schedulers.Distinct(ReferenceEqualityComparer.Instance).Count() != schedulers.Count)
            throw new ArgumentException("SequentialLR: the same schedule instance appears twice in schedulers; create one per stage.", nameof(schedulers));
        _milestones = ScheduleGuard.StrictlyIncreasing(TypeName, "milestones", milestones, 1);
        if (_milestones.Length != schedulers.Count - 1)
            throw new ArgumentException(
                $"SequentialLR: expected {schedulers.Count - 1} milestones (one fewer than the {schedulers.Count} schedulers), got {_milestones.Length}.",
                nameof(milestones));
        _stages = schedulers.ToArray();
        _chain = _stages.Select(s => s.TryGet<IChainableSchedule>()).ToArray();
        _momentum = _stages.Select(s => s.TryGet<IMomentumSchedule>()).ToArray();
        _metric = _stages.Select(s => s.TryGet<IMetricSchedule>()).ToArray();
        _stateful = _stages.Select(s => s.TryGet<IStatefulSchedule>()).ToArray();
        // A later stage that continues from the current value needs the value it started from after a resume.
        _isStateful = _chain.Skip(1).Any(Chaining.ContinuesFromCurrent) || _stateful.Any(s => s != null);
    }

    /// <summary><c>schedulers</c>.</summary>
    public IReadOnlyList<Schedule> Schedulers => _stages;

    /// <summary><c>milestones</c>.</summary>
    public IReadOnlyList<long> Milestones => _milestones;

    /// <inheritdoc />
    public override string TypeName => "SequentialLR";

    /// <summary>Always chainable; cycles momentum, reacts to metrics or keeps state when a stage does (or, for
    /// state, when a later stage continues from the current value).</summary>
    public override T? TryGet<T>() where T : class =>
        (typeof(T) == typeof(IMomentumSchedule) && _momentum.All(m => m == null))
        || (typeof(T) == typeof(IMetricSchedule) && _metric.All(m => m == null))
        || (typeof(T) == typeof(IStatefulSchedule) && !_isStateful)
            ? null
            : base.TryGet<T>();

    /// <inheritdoc />
    public override bool UsesBaseValue => _stages.Any(s => s.UsesBaseValue);

    private (int Stage, double Start) Locate(double t)
    {
        var k = ScheduleGuard.BisectRight(_milestones, t);
        return (k, k == 0 ? 0 : _milestones[k - 1]);
    }

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues)
    {
        foreach (var s in _stages) s.Bind(baseValues);
        _incoming = _stages.Select(_ => Enumerable.Repeat(double.NaN, baseValues.Count).ToArray()).ToArray();
    }

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue)
    {
        var (k, start) = Locate(t);
        var stage = _stages[k];
        if (k > 0 && Chaining.ContinuesFromCurrent(_chain[k]))
        {
            if (double.IsNaN(_incoming[k][group])) _incoming[k][group] = Value(start - 1, group, baseValue);
            return stage.Value(t - start, group, _incoming[k][group]);
        }
        return stage.Value(t - start, group, baseValue);
    }

    /// <inheritdoc />
    public double ChainStep(long t, int group, double current, double baseValue)
    {
        // PyTorch's constructor resets the lr to initial_lr and performs the first stage's initial step.
        if (t == 0) return Chaining.Step(_stages[0], _chain[0], 0, group, baseValue, baseValue);
        var (k, start) = Locate(t);
        var stage = _stages[k];
        var tau = (long)(t - start);
        if (k > 0 && tau == 0)
            return Chaining.ContinuesFromCurrent(_chain[k]) ? Chaining.Step(stage, _chain[k], 0, group, current, baseValue) : stage.Value(0, group, baseValue);
        return Chaining.Step(stage, _chain[k], tau, group, current, baseValue);
    }

    /// <summary>The running stage's momentum; after a momentum stage ends its last value stays; before any has
    /// run, the value set when the last momentum stage was constructed (its t = 0), as in PyTorch.</summary>
    /// <exception cref="InvalidOperationException">No stage cycles momentum.</exception>
    public double Momentum(double t, int group)
    {
        var (k, start) = Locate(t);
        for (var j = k; j >= 0; j--)
        {
            if (_momentum[j] is not { } m) continue;
            var local = j == k ? t - start : _milestones[j] - 1 - (j == 0 ? 0 : _milestones[j - 1]);
            return m.Momentum(local, group);
        }
        for (var j = _stages.Length - 1; j > k; j--)
            if (_momentum[j] is { } m) return m.Momentum(0, group);
        throw new InvalidOperationException("No stage of this SequentialLR cycles momentum.");
    }

    /// <inheritdoc />
    public void Observe(double t, double metric)
    {
        var (k, start) = Locate(t);
        if (t - start >= 1) _metric[k]?.Observe(t - start, metric);
    }

    /// <inheritdoc />
    public JsonObject? SaveState()
    {
        if (!_isStateful) return null;
        var incoming = new JsonArray();
        foreach (var row in _incoming) incoming.Add(StateJson.Numbers(row));
        var stages = new JsonArray();
        foreach (var s in _stateful) stages.Add(s?.SaveState());
        return new JsonObject { ["schedulers"] = stages, ["incoming"] = incoming };
    }

    /// <inheritdoc />
    public void LoadState(JsonObject? state)
    {
        if (!_isStateful) return;
        var stages = StateJson.Get(state, "schedulers", TypeName) as JsonArray
                     ?? throw new FormatException("SequentialLR state: 'schedulers' must be an array.");
        if (stages.Count != _stages.Length)
            throw new FormatException($"SequentialLR state has {stages.Count} schedulers, this schedule {_stages.Length}.");
        for (var i = 0; i < _stages.Length; i++) _stateful[i]?.LoadState(stages[i] as JsonObject);
        var incoming = (JsonArray)state!["incoming"]!;
        var groups = _incoming.Length > 0 ? _incoming[0].Length : 0;
        _incoming = incoming.Select((n, i) => StateJson.ReadNumbers(n, groups, $"SequentialLR incoming[{i}]")).ToArray();
    }
}
