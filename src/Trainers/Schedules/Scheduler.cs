using System.Globalization;
using MLLrSched.Optimizers;

namespace MLLrSched.Schedules;

/// <summary>
/// Drives an optimizer's parameter-group hyperparameters from schedules: PyTorch's <c>lr_scheduler</c> object.
/// It keeps the time t, evaluates each schedule at t and writes the values into the groups.
/// </summary>
/// <remarks>
/// <para><b>Step order.</b> As in PyTorch ≥ 1.1, call <c>optimizer.Step()</c> first and then
/// <c>scheduler.Step()</c>. Construction writes the values for t = 0, which the first optimizer step uses; after
/// k scheduler steps the groups hold the values for t = k (PyTorch's <c>get_last_lr()</c>), used by optimizer step
/// k + 1. Stepping the scheduler before the optimizer has ever stepped calls <see cref="SchedulerOptions.Warn"/>
/// once, or throws when <see cref="SchedulerOptions.StrictStepOrder"/> is set.</para>
/// <para><b>Resume.</b> <see cref="SaveState"/> returns plain data (time plus the state of stateful schedules);
/// rebuild the same schedules and call <see cref="LoadState"/> to continue exactly.</para>
/// </remarks>
/// <example>
/// <code>
/// var scheduler = new Scheduler(optimizer, new OneCycleLR(maxLr: 0.1, totalSteps: 1000));
/// foreach (var batch in batches) { ...; optimizer.Step(); scheduler.Step(); }
/// </code>
/// </example>
public sealed class Scheduler
{
    private sealed class Bound
    {
        public required Schedule Schedule;
        public required string Field;
        public required double[] Bases;
        public required double[] Last;

        // The schedule's optional capabilities, looked up once: stepping must not pay for the lookup.
        public IMomentumSchedule? Momentum;
        public IMetricSchedule? Metric;
        public IStatefulSchedule? Stateful;
    }

    private readonly IOptimizer _optimizer;
    private readonly Bound[] _bound;
    private readonly SchedulerOptions _options;
    private readonly string[]? _momentumFields;
    private readonly double[]? _lastMomentum;
    private readonly Bound? _momentumSource;
    private readonly IMetricSchedule[] _metric;
    private double _t;
    private long _stepCount;
    private long _epoch;
    private long _optimizerStepsInEpoch;
    private bool _orderChecked;

    /// <summary>Drives the learning rate with <paramref name="schedule"/>.</summary>
    /// <exception cref="ArgumentException">A group lacks a needed hyperparameter, a base value is invalid, or a
    /// per-group setting does not match the number of groups.</exception>
    public Scheduler(IOptimizer optimizer, Schedule schedule, SchedulerOptions? options = null)
        : this(optimizer, new[] { new ScheduleBinding(schedule) }, options) { }

    /// <summary>Drives several hyperparameters, one schedule each (e.g. lr and weight_decay).</summary>
    /// <exception cref="ArgumentException">See <see cref="Scheduler(IOptimizer, Schedule, SchedulerOptions?)"/>; also
    /// when two bindings drive the same hyperparameter (compose them with <see cref="ChainedScheduler"/> instead).</exception>
    public Scheduler(IOptimizer optimizer, IEnumerable<ScheduleBinding> bindings, SchedulerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(bindings);
        _optimizer = optimizer;
        _options = options ?? new SchedulerOptions();
        var groups = optimizer.ParamGroups;
        if (groups.Count == 0) throw new ArgumentException("The optimizer has no parameter groups to schedule.", nameof(optimizer));
        if (_options.StepsPerEpoch is < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"StepsPerEpoch must be ≥ 1, got {_options.StepsPerEpoch}.");
        var lastEpoch = _options.LastEpoch ?? -1;
        if (lastEpoch < -1)
            throw new ArgumentOutOfRangeException(nameof(options), $"last_epoch must be ≥ -1 (-1 starts fresh), got {lastEpoch}.");
        var resuming = lastEpoch >= 0;

        var list = new List<Bound>();
        foreach (var b in bindings)
        {
            ArgumentNullException.ThrowIfNull(b?.Schedule, nameof(bindings));
            if (string.IsNullOrWhiteSpace(b.ParamGroupField))
                throw new ArgumentException("param_group_field must name a hyperparameter, e.g. \"lr\".", nameof(bindings));
            if (list.Any(x => x.Field == b.ParamGroupField))
                throw new ArgumentException(
                    $"Two schedules drive '{b.ParamGroupField}'. Compose them into one with ChainedScheduler or SequentialLR.",
                    nameof(bindings));
            list.Add(new Bound
            {
                Schedule = b.Schedule,
                Field = b.ParamGroupField,
                Bases = BaseValues(groups, b, resuming),
                Last = new double[groups.Count],
            });
        }
        if (list.Count == 0) throw new ArgumentException("No schedule given.", nameof(bindings));
        _bound = list.ToArray();
        foreach (var b in _bound)
        {
            b.Schedule.Bind(b.Bases);
            b.Momentum = b.Schedule.TryGet<IMomentumSchedule>();
            b.Metric = b.Schedule.TryGet<IMetricSchedule>();
            b.Stateful = b.Schedule.TryGet<IStatefulSchedule>();
        }

        _momentumSource = _bound.FirstOrDefault(b => b.Field == "lr" && b.Momentum != null)
                          ?? _bound.FirstOrDefault(b => b.Momentum != null);
        if (_bound.Count(b => b.Momentum != null) > 1)
            throw new ArgumentException("Only one schedule may cycle momentum.", nameof(bindings));
        if (_momentumSource != null)
        {
            _momentumFields = new string[groups.Count];
            for (var g = 0; g < groups.Count; g++)
            {
                _momentumFields[g] = groups[g].Has("beta1") ? "beta1" : groups[g].Has("momentum") ? "momentum"
                    : throw new ArgumentException(
                        $"{_momentumSource.Schedule.TypeName} cycles momentum, but parameter group {g} has neither 'beta1' nor 'momentum'. " +
                        "Use an optimizer with momentum (SGD with momentum, Adam-style betas) or set cycle_momentum to false.",
                        nameof(optimizer));
                if (_bound.Any(b => b.Field == _momentumFields[g]))
                    throw new ArgumentException(
                        $"{_momentumSource.Schedule.TypeName} cycles '{_momentumFields[g]}', which another schedule also drives.", nameof(bindings));
            }
            _lastMomentum = new double[groups.Count];
        }

        _metric = _bound.Select(b => b.Metric).OfType<IMetricSchedule>().ToArray();
        _t = resuming ? lastEpoch + 1 : 0;
        _epoch = (long)Math.Floor(_t);
        _orderChecked = resuming;
        Apply();
    }

    /// <summary>
    /// Builds a scheduler from a JSON spec (or an array of specs, one per driven hyperparameter). The spec's
    /// <c>interval</c> and <c>last_epoch</c> keys override those of <paramref name="options"/>.
    /// </summary>
    /// <example><c>Scheduler.FromJson(optimizer, """{"type": "StepLR", "step_size": 30, "interval": "epoch"}""")</c></example>
    /// <exception cref="MLLrSched.Specs.SpecException">Invalid spec.</exception>
    public static Scheduler FromJson(IOptimizer optimizer, string json, SchedulerOptions? options = null)
    {
        var specs = ScheduleSpecs.ParseMany(json);
        var intervals = specs.Select(s => s.Interval).Where(i => i != null).Distinct().ToList();
        if (intervals.Count > 1)
            throw new MLLrSched.Specs.SpecException("The schedules disagree on 'interval'; one scheduler steps all of them together.", "interval");
        var lastEpochs = specs.Select(s => s.LastEpoch).Where(l => l != null).Distinct().ToList();
        if (lastEpochs.Count > 1)
            throw new MLLrSched.Specs.SpecException("The schedules disagree on 'last_epoch'.", "last_epoch");
        var o = options ?? new SchedulerOptions();
        var merged = new SchedulerOptions
        {
            Interval = intervals.Count == 1 ? intervals[0]!.Value : o.Interval,
            StepsPerEpoch = o.StepsPerEpoch,
            LastEpoch = lastEpochs.Count == 1 ? lastEpochs[0] : o.LastEpoch,
            StrictStepOrder = o.StrictStepOrder,
            Warn = o.Warn,
        };
        return new Scheduler(optimizer, specs.Select(s => s.ToBinding()), merged);
    }

    private static double[] BaseValues(IReadOnlyList<ParamGroup> groups, ScheduleBinding b, bool resuming)
    {
        var field = b.ParamGroupField;
        var initial = "initial_" + field;
        var bases = new double[groups.Count];
        for (var g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            if (resuming)
            {
                if (!group.Has(initial))
                    throw new ArgumentException(
                        $"Resuming {b.Schedule.TypeName} with last_epoch needs '{initial}' in every parameter group, but group {g} has none. " +
                        "Restore the optimizer's state first (it carries initial_* values), or start fresh with last_epoch = -1.");
            }
            else
            {
                if (!group.Has(field))
                    throw new ArgumentException(
                        $"{b.Schedule.TypeName} drives '{field}', but parameter group {g} has no such hyperparameter. It has: " +
                        $"{string.Join(", ", group.Hyperparameters.Keys.OrderBy(k => k, StringComparer.Ordinal))}.");
                group.SetDefault(initial, group[field]);
            }
            var v = group[initial];
            if (!double.IsFinite(v) || v < 0)
                throw new ArgumentOutOfRangeException(nameof(groups),
                    $"{field} of parameter group {g} must be ≥ 0 and finite, got {v.ToString(CultureInfo.InvariantCulture)}.");
            bases[g] = v;
        }
        return bases;
    }

    /// <summary>The optimizer whose groups this scheduler drives.</summary>
    public IOptimizer Optimizer => _optimizer;

    /// <summary>The options.</summary>
    public SchedulerOptions Options => _options;

    /// <summary>The schedules and the hyperparameters they drive.</summary>
    public IReadOnlyList<ScheduleBinding> Bindings => _bound.Select(b => new ScheduleBinding(b.Schedule, b.Field)).ToArray();

    /// <summary>The schedule time whose values the groups now hold (PyTorch's <c>last_epoch</c>).</summary>
    public double T => _t;

    /// <summary>How many times the scheduler has been stepped.</summary>
    public long StepCount => _stepCount;

    /// <summary>The learning rates written last, one per group (PyTorch's <c>get_last_lr()</c>).</summary>
    /// <exception cref="InvalidOperationException">No schedule drives <c>lr</c>.</exception>
    public IReadOnlyList<double> LastLr => LastValues("lr");

    /// <summary>The momentum (or beta1) values written last, or null when no schedule cycles momentum.</summary>
    public IReadOnlyList<double>? LastMomentum => _lastMomentum;

    /// <summary>True when a schedule reacts to metrics, so every step needs one.</summary>
    public bool UsesMetric => _metric.Length > 0;

    /// <summary>The values written last for <paramref name="field"/>.</summary>
    public IReadOnlyList<double> LastValues(string field) =>
        _bound.FirstOrDefault(b => b.Field == field)?.Last
        ?? throw new InvalidOperationException($"No schedule drives '{field}'. Driven: {string.Join(", ", _bound.Select(b => b.Field))}.");

    /// <summary>Advances t by one and writes the new values (PyTorch's <c>scheduler.step()</c>).</summary>
    /// <exception cref="InvalidOperationException">A schedule needs a metric (use <see cref="Step(double)"/>), or the
    /// step order is wrong under <see cref="SchedulerOptions.StrictStepOrder"/>, or a schedule ran past its end.</exception>
    public void Step() => StepTo(_t + 1, null);

    /// <summary>Advances t by one, reporting <paramref name="metric"/> (PyTorch's <c>ReduceLROnPlateau.step(metric)</c>).
    /// Schedules that do not use metrics ignore it.</summary>
    public void Step(double metric) => StepTo(_t + 1, metric);

    /// <summary>
    /// Moves to time <paramref name="t"/> (PyTorch's deprecated <c>step(epoch)</c>): for fractional epochs, e.g.
    /// <c>StepTo(epoch + i / (double)iters)</c> with CosineAnnealingWarmRestarts.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is negative or not finite.</exception>
    public void StepTo(double t, double? metric = null)
    {
        if (!(t >= 0) || double.IsInfinity(t))
            throw new ArgumentOutOfRangeException(nameof(t), $"The schedule time must be ≥ 0 and finite, got {t.ToString(CultureInfo.InvariantCulture)}.");
        CheckStepOrder();
        if (metric is { } m)
        {
            foreach (var s in _metric) s.Observe(t, m);
        }
        else if (_metric.Length > 0)
        {
            var s = _bound.First(b => b.Metric != null).Schedule;
            throw new InvalidOperationException(
                $"{s.TypeName} reacts to a metric, so every step needs one: call Step(metric) with the value to monitor (e.g. the validation loss).");
        }
        _t = t;
        _stepCount++;
        Apply();
    }

    /// <summary>
    /// Reports that the optimizer stepped. Advances t by one when <see cref="SchedulerOptions.Interval"/> is
    /// <see cref="StepInterval.Step"/>, by 1/StepsPerEpoch for fractional epochs, else does nothing.
    /// </summary>
    public void OnOptimizerStep(double? metric = null)
    {
        if (_options.Interval == StepInterval.Step) StepTo(_t + 1, metric);
        else if (_options.StepsPerEpoch is { } s)
        {
            _optimizerStepsInEpoch++;
            StepTo(_epoch + (double)_optimizerStepsInEpoch / s, metric);
        }
    }

    /// <summary>
    /// Reports the end of an epoch (with the monitored metric, if any). Advances t by one when
    /// <see cref="SchedulerOptions.Interval"/> is <see cref="StepInterval.Epoch"/>; with fractional epochs it
    /// moves t to the epoch boundary. With <see cref="StepInterval.Step"/> it does nothing.
    /// </summary>
    public void OnEpochEnd(double? metric = null)
    {
        if (_options.Interval != StepInterval.Epoch) return;
        if (_options.StepsPerEpoch is null)
        {
            StepTo(_t + 1, metric);
            _epoch = (long)Math.Floor(_t);
            return;
        }
        _epoch++;
        _optimizerStepsInEpoch = 0;
        if (_t != _epoch || metric != null) StepTo(_epoch, metric);
    }

    /// <summary>The state to checkpoint.</summary>
    public SchedulerState SaveState() => new()
    {
        T = _t,
        StepCount = _stepCount,
        OptimizerSteps = _optimizerStepsInEpoch,
        Schedules = _bound.Select(b => b.Stateful?.SaveState()).ToList(),
    };

    /// <summary>Restores state saved by <see cref="SaveState"/> from a scheduler built the same way, and writes the
    /// values for the restored time into the groups.</summary>
    /// <exception cref="ArgumentException">The state was saved with a different number of schedules.</exception>
    public void LoadState(SchedulerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Schedules.Count != _bound.Length)
            throw new ArgumentException(
                $"The state holds {state.Schedules.Count} schedules but this scheduler has {_bound.Length}; build the scheduler from the same spec.",
                nameof(state));
        for (var i = 0; i < _bound.Length; i++) _bound[i].Stateful?.LoadState(state.Schedules[i]);
        _t = state.T;
        _stepCount = state.StepCount;
        _optimizerStepsInEpoch = state.OptimizerSteps;
        _epoch = _options.StepsPerEpoch is { } s ? (long)Math.Round(_t - (double)state.OptimizerSteps / s) : (long)Math.Floor(_t);
        _orderChecked = true;
        Apply();
    }

    private void CheckStepOrder()
    {
        if (_orderChecked) return;
        _orderChecked = true;
        if (_optimizer.StepCount >= 1) return;
        const string message =
            "The scheduler was stepped before the optimizer's first step. Call optimizer.Step() before scheduler.Step() " +
            "(PyTorch's order since 1.1.0): the values written at construction are for the first optimizer step, and " +
            "stepping the scheduler first skips them, running the whole schedule one step early.";
        if (_options.StrictStepOrder) throw new InvalidOperationException(message);
        _options.Warn?.Invoke(message);
    }

    private void Apply()
    {
        var groups = _optimizer.ParamGroups;
        foreach (var b in _bound)
        {
            for (var g = 0; g < b.Bases.Length; g++)
            {
                var v = b.Schedule.Value(_t, g, b.Bases[g]);
                b.Last[g] = v;
                groups[g][b.Field] = v;
            }
        }
        if (_momentumSource?.Momentum is { } source)
        {
            for (var g = 0; g < _lastMomentum!.Length; g++)
            {
                var m = source.Momentum(_t, g);
                _lastMomentum[g] = m;
                groups[g][_momentumFields![g]] = m;
            }
        }
    }
}
