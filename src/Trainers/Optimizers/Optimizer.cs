using System.Text;
using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// Base class of the built-in optimizers, and of your own: parameter groups with defaults, per-parameter
/// state, <c>zero_grad</c>, and PyTorch-structured <see cref="StateDict"/>/<see cref="LoadStateDict"/>.
/// A derived class implements <see cref="StepCore"/>: one update of every parameter that has a gradient,
/// reading its hyperparameters from <see cref="ParamGroups"/> (schedules change them between steps) and its
/// per-parameter state from <see cref="StateOf"/>.
/// </summary>
/// <remarks>
/// In the style of optax the state is explicit (<see cref="StateDict"/> is the whole of it, and
/// <see cref="LoadStateDict"/> restores it bit for bit); in the style of PyTorch the names, arguments, groups
/// and state layout are <c>torch.optim</c>'s. Dispose the optimizer to free its state tensors.
/// </remarks>
public abstract class Optimizer : IOptimizer, IDisposable
{
    private readonly List<ParamGroup> _groups = new();
    private readonly Dictionary<ITensor, ParamState> _state = new(ReferenceEqualityComparer.Instance);
    private readonly IBackend _backend;
    private TorchSemantics _semantics;
    private bool _disposed;

    /// <summary>Creates the optimizer and adds each group (see <see cref="AddParamGroup"/>).</summary>
    /// <param name="groups">The parameter groups; a group's own values override <paramref name="defaults"/>.</param>
    /// <param name="defaults">The optimizer-wide settings (PyTorch's <c>defaults</c>); a group without parameters.</param>
    /// <param name="schema">The arguments' names, kinds and valid ranges; null for a custom optimizer without one
    /// (its defaults are then copied into each group as they are and not validated).</param>
    /// <param name="semantics">Which PyTorch version to follow where PyTorch changed (see <see cref="TorchSemantics"/>);
    /// <see cref="TorchSemantics.Auto"/>: the libtorch of the parameters' backend.</param>
    /// <exception cref="ArgumentException">No parameters, a parameter in two groups, or an invalid setting
    /// (the message names the setting and its valid range), including an argument the chosen PyTorch version does not
    /// have or requires.</exception>
    protected Optimizer(IEnumerable<ParamGroup> groups, ParamGroup defaults, OptimizerSchema? schema,
        TorchSemantics semantics = TorchSemantics.Auto)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(defaults);
        Schema = schema;
        Name = schema?.Name ?? GetType().Name;
        Defaults = defaults;
        var list = groups.ToList();
        var first = list.SelectMany(g => g.Parameters).FirstOrDefault()
            ?? throw new ArgumentException($"{Name} got an empty parameter list.", nameof(groups));
        _backend = first.Backend;
        _semantics = semantics;
        Behaviour = Resolve(semantics);
        schema?.ApplyVersionDefaults(defaults, Behaviour);
        schema?.Validate(defaults, Name);
        CheckVersion(defaults, Name, Behaviour, semantics);
        ValidateGroup(defaults, Name);
        foreach (var g in list) AddParamGroup(g);
    }

    /// <summary>The name used in messages and JSON specs (PyTorch's class name, e.g. <c>AdamW</c>).</summary>
    public string Name { get; }

    /// <summary>The arguments' schema, or null for a custom optimizer without one.</summary>
    public OptimizerSchema? Schema { get; }

    /// <summary>The optimizer-wide settings (PyTorch's <c>optimizer.defaults</c>) as a group without parameters.</summary>
    public ParamGroup Defaults { get; }

    /// <summary>The backend of the parameters.</summary>
    public IBackend Backend => _backend;

    /// <inheritdoc />
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <inheritdoc />
    public long StepCount { get; protected set; }

    /// <summary>
    /// Whether built-in optimizers use the backend's single-pass kernels (capabilities from <see cref="IBackend.TryGet{T}"/>) where
    /// they apply (float32, contiguous, CPU). True by default; false forces the tensor-op path. Both paths follow
    /// PyTorch's formulas op for op; see docs/optimizers.md, "The fast path".
    /// </summary>
    public bool UseFusedKernels { get; set; } = true;

    /// <summary>
    /// Which PyTorch version's semantics this optimizer follows where <c>torch.optim</c> changed between versions (JSON
    /// key <c>torch_semantics</c>). <see cref="TorchSemantics.Auto"/> (the default) follows the libtorch of the
    /// parameters' backend (<see cref="IBackend.LibtorchVersion"/>): 1.x → PyTorch 1.13, 2.0 and later → PyTorch 2.x.
    /// The flags it stands for are <see cref="Behaviour"/>; see docs/optimizers.md, "PyTorch versions".
    /// </summary>
    /// <exception cref="InvalidOperationException">Set after the first step.</exception>
    /// <exception cref="ArgumentException">A group's setting does not exist in the chosen version (NAdam's
    /// <c>maximize</c> under 1.13); the optimizer keeps its semantics.</exception>
    public TorchSemantics TorchSemantics
    {
        get => _semantics;
        set
        {
            ThrowIfDisposed();
            if (value == _semantics) return;
            if (StepCount > 0)
                throw new InvalidOperationException($"{Name}: set TorchSemantics before the first step (it has taken {StepCount}).");
            var behaviour = Resolve(value);
            Schema?.ApplyVersionDefaults(Defaults, behaviour);
            CheckVersion(Defaults, Name, behaviour, value);
            for (var i = 0; i < _groups.Count; i++) CheckVersion(_groups[i], $"{Name}, parameter group {i}", behaviour, value);
            _semantics = value;
            Behaviour = behaviour;
        }
    }

    /// <summary>The behaviour flags of the PyTorch version this optimizer follows (<see cref="TorchSemantics"/> resolved).</summary>
    public TorchBehaviour Behaviour { get; private set; }

    /// <summary>Replaces the behaviour flags, unchecked: for mutation tests only.</summary>
    internal void SetBehaviourForTests(TorchBehaviour behaviour) => Behaviour = behaviour;

    private TorchBehaviour Resolve(TorchSemantics semantics)
    {
        try
        {
            return TorchBehaviour.Of(semantics, semantics == TorchSemantics.Auto ? _backend.LibtorchVersion : null);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{Name}: {e.Message}", "torch_semantics", e);
        }
    }

    /// <summary>Refuses a group that sets an argument <paramref name="behaviour"/>'s PyTorch lacks.</summary>
    private void CheckVersion(ParamGroup group, string where, TorchBehaviour behaviour, TorchSemantics requested)
    {
        if (Schema?.VersionError(group, behaviour) is not { } error) return;
        var why = requested == TorchSemantics.Auto
            ? $"it follows PyTorch {behaviour.Series} because its parameters' libtorch is {_backend.LibtorchVersion}"
            : $"it follows PyTorch {behaviour.Series} as asked";
        throw new ArgumentException(
            $"{where}: {error}; {why}. Set TorchSemantics (JSON \"torch_semantics\") to \"2.x\" to use it.",
            Schema.HyperParameters.First(hp => !behaviour.Includes(hp.AddedIn) && !hp.IsDefaultIn(group)).Name);
    }

    /// <summary>The backend's fused kernels when <see cref="UseFusedKernels"/> is on, else null.</summary>
    protected T? Fused<T>() where T : class => UseFusedKernels ? _backend.TryGet<T>() : null;

    /// <summary>
    /// State entries that PyTorch 1.13 keeps as 0-dim float32 tensors (Adam's <c>step</c>, ASGD's <c>eta</c>, ...)
    /// while this class keeps them as numbers: <see cref="StateDict"/> writes them as tensors, and
    /// <see cref="LoadStateDict"/> accepts either. <c>Integer</c> entries are kept as <see cref="long"/>.
    /// </summary>
    protected virtual IReadOnlyList<(string Key, bool Integer)> TensorScalarState => Array.Empty<(string, bool)>();

    /// <summary>
    /// State entries kept and written as numbers that another PyTorch version keeps as 0-dim tensors (RMSprop's
    /// <c>step</c> under 1.13 semantics): <see cref="LoadStateDict"/> accepts either. <c>Integer</c> entries are kept as
    /// <see cref="long"/>.
    /// </summary>
    protected virtual IReadOnlyList<(string Key, bool Integer)> NumberState => Array.Empty<(string, bool)>();

    /// <summary>
    /// Adds a group (PyTorch's <c>add_param_group</c>): fills the settings it lacks from <see cref="Defaults"/> and
    /// validates them.
    /// </summary>
    /// <exception cref="ArgumentException">A parameter already belongs to a group, or a setting is invalid.</exception>
    public void AddParamGroup(ParamGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        ThrowIfDisposed();
        var index = _groups.Count;
        if (index > 0 && !SupportsMultipleGroups)
            throw new ArgumentException($"{Name} doesn't support per-parameter options (parameter groups): give it one group.", nameof(group));
        var seen = new HashSet<ITensor>(ReferenceEqualityComparer.Instance);
        foreach (var g in _groups)
            foreach (var p in g.Parameters) seen.Add(p);
        for (var i = 0; i < group.Parameters.Count; i++)
        {
            if (!seen.Add(group.Parameters[i]))
                throw new ArgumentException(
                    $"{Name}: parameter '{group.Names[i]}' of group {index} appears more than once (in this group or an earlier one); " +
                    "each parameter may belong to one group only.", nameof(group));
            if (!ReferenceEquals(group.Parameters[i].Backend, _backend))
                throw new ArgumentException($"{Name}: parameter '{group.Names[i]}' lives on backend '{group.Parameters[i].Backend.Name}', " +
                    $"the others on '{_backend.Name}'.", nameof(group));
        }
        if (Schema != null)
        {
            Schema.FillDefaults(group, Defaults);
            Schema.Validate(group, $"{Name}, parameter group {index}");
        }
        else
        {
            foreach (var (k, v) in Defaults.Hyperparameters) group.SetDefault(k, v);
            foreach (var (k, v) in Defaults.Options) group.SetDefaultOption(k, v);
        }
        CheckVersion(group, $"{Name}, parameter group {index}", Behaviour, _semantics);
        ValidateGroup(group, $"{Name}, parameter group {index}");
        _groups.Add(group);
        OnGroupAdded(group);
    }

    /// <summary>False for optimizers that take one group only (LBFGS).</summary>
    protected virtual bool SupportsMultipleGroups => true;

    /// <summary>Checks that involve more than one setting (e.g. SGD's nesterov needs momentum); throw ArgumentException.</summary>
    /// <param name="group">The group, defaults filled in.</param>
    /// <param name="where">How messages name it: the optimizer, and the group index for later groups.</param>
    protected virtual void ValidateGroup(ParamGroup group, string where) { }

    /// <summary>Called after a group was added (Adagrad creates its accumulators here, as PyTorch does in its constructor).</summary>
    protected virtual void OnGroupAdded(ParamGroup group) { }

    /// <summary>Applies one update from the parameters' accumulated gradients, with autograd off.</summary>
    public void Step()
    {
        ThrowIfDisposed();
        using (_backend.NoGrad()) StepCore();
        StepCount++;
    }

    /// <inheritdoc />
    public virtual bool RequiresClosure => false;

    /// <summary>
    /// Calls <paramref name="closure"/> (with autograd on), then <see cref="Step()"/>; returns the loss. LBFGS overrides
    /// it to re-evaluate the loss several times.
    /// </summary>
    public virtual double Step(Func<double> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        ThrowIfDisposed();
        var loss = closure();
        Step();
        return loss;
    }

    /// <summary>
    /// One update of every parameter with a gradient. Runs with autograd off; <see cref="StepCount"/> has not been
    /// incremented yet. Open a dispose scope (<see cref="IBackend.NewScope"/>) per parameter for temporaries
    /// (<see cref="ForEachDenseGradient"/> and <see cref="ForEachGradient"/> do it for you); store state through
    /// <see cref="ParamState.Set(string, ITensor)"/>, which takes it out of the scope.
    /// </summary>
    protected abstract void StepCore();

    /// <inheritdoc />
    public void ZeroGrad(bool setToNone = true)
    {
        ThrowIfDisposed();
        foreach (var g in _groups)
            foreach (var p in g.Parameters)
            {
                if (setToNone)
                {
                    p.Grad = null;
                    continue;
                }
                using var grad = p.Grad;
                grad?.Zero_();
            }
    }

    /// <summary>The state of <paramref name="parameter"/>, created empty on first use (PyTorch's <c>self.state[p]</c>).</summary>
    protected ParamState StateOf(ITensor parameter)
    {
        if (!_state.TryGetValue(parameter, out var s)) _state[parameter] = s = new ParamState();
        return s;
    }

    /// <summary>The state of <paramref name="parameter"/>, or null before its first update. For inspection; do not dispose it.</summary>
    public ParamState? GetState(ITensor parameter) => _state.GetValueOrDefault(parameter);

    /// <summary>Throws the error PyTorch raises for a sparse gradient given to a dense-only optimizer.</summary>
    protected void RejectSparse(ITensor grad, string? hint = null)
    {
        if (grad.IsSparse)
            throw new InvalidOperationException($"{Name} does not support sparse gradients{(hint == null ? "" : ", " + hint)}.");
    }

    /// <summary>
    /// The per-parameter loop of a dense-only <see cref="StepCore"/>: calls <paramref name="body"/> for each parameter of
    /// <paramref name="group"/> that has a gradient, in order, each inside its own dispose scope
    /// (<see cref="IBackend.NewScope"/>), so the gradient handle and every temporary the body creates are freed before
    /// the next parameter. Parameters without a gradient are skipped and get no state. A sparse gradient is refused
    /// with <see cref="RejectSparse"/>'s message before the parameter's state is created.
    /// </summary>
    /// <param name="group">The group to visit; read its hyperparameters once, before the call.</param>
    /// <param name="body">One parameter's update, given the parameter, its gradient (owned by the scope: don't dispose
    /// it) and its state (<see cref="StateOf"/>: empty before the first update, so initialize it when
    /// <see cref="ParamState.IsEmpty"/>). Return early to go on to the next parameter.</param>
    /// <param name="sparseHint">Appended to the sparse-gradient error (e.g. "please consider SparseAdam instead").</param>
    /// <exception cref="InvalidOperationException">A parameter of the group has a sparse gradient.</exception>
    protected void ForEachDenseGradient(ParamGroup group, Action<ITensor, ITensor, ParamState> body, string? sparseHint = null) =>
        VisitGradients(group, body, rejectSparse: true, sparseHint);

    /// <summary>
    /// As <see cref="ForEachDenseGradient"/>, for optimizers that also take sparse gradients (SGD, Adagrad): sparse
    /// gradients are passed to <paramref name="body"/> as they are.
    /// </summary>
    /// <param name="group">The group to visit; read its hyperparameters once, before the call.</param>
    /// <param name="body">One parameter's update, given the parameter, its gradient (owned by the scope: don't dispose
    /// it) and its state. Return early to go on to the next parameter.</param>
    protected void ForEachGradient(ParamGroup group, Action<ITensor, ITensor, ParamState> body) =>
        VisitGradients(group, body, rejectSparse: false, sparseHint: null);

    private void VisitGradients(ParamGroup group, Action<ITensor, ITensor, ParamState> body, bool rejectSparse, string? sparseHint)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(body);
        foreach (var p in group.Parameters)
        {
            using var scope = _backend.NewScope();
            var grad = p.Grad;
            if (grad == null) continue;
            if (rejectSparse) RejectSparse(grad, sparseHint);
            body(p, grad, StateOf(p));
        }
    }

    // ------------------------------------------------------------------ state dict

    /// <inheritdoc />
    public OptimizerState StateDict()
    {
        ThrowIfDisposed();
        var groups = new List<Dictionary<string, object?>>();
        var state = new Dictionary<long, Dictionary<string, object?>>();
        long next = 0;
        using (_backend.NoGrad())
            foreach (var g in _groups)
            {
                var d = ExportGroup(g);
                var ids = new long[g.Parameters.Count];
                for (var i = 0; i < ids.Length; i++)
                {
                    ids[i] = next++;
                    if (_state.TryGetValue(g.Parameters[i], out var s) && !s.IsEmpty) state[ids[i]] = ExportState(s);
                }
                d["params"] = ids;
                groups.Add(d);
            }
        return new OptimizerState(state, groups, StepCount);
    }

    /// <inheritdoc />
    public void LoadStateDict(OptimizerState saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        ThrowIfDisposed();
        if (saved.ParamGroups.Count != _groups.Count)
            throw new ArgumentException(
                $"Cannot load the {Name} state: it has {saved.ParamGroups.Count} parameter group(s), this optimizer has {_groups.Count}.",
                nameof(saved));
        var byId = new Dictionary<long, (ITensor Param, string Label)>();
        for (var gi = 0; gi < _groups.Count; gi++)
        {
            var g = _groups[gi];
            var ids = saved.ParamGroups[gi].TryGetValue("params", out var raw) ? ToIds(raw) : null;
            if (ids == null)
                throw new ArgumentException($"Cannot load the {Name} state: parameter group {gi} has no 'params' list.", nameof(saved));
            if (ids.Length != g.Parameters.Count)
                throw new ArgumentException(
                    $"Cannot load the {Name} state: parameter group {gi} has {ids.Length} parameter(s) in the saved state, " +
                    $"{g.Parameters.Count} here.", nameof(saved));
            for (var i = 0; i < ids.Length; i++)
                byId[ids[i]] = (g.Parameters[i], $"parameter {ids[i]} ('{g.Names[i]}', group {gi})");
        }

        // Build everything first so that a refused state leaves the optimizer untouched.
        var loaded = new List<(ITensor Param, ParamState State)>();
        try
        {
            using (_backend.NoGrad())
                foreach (var (id, entries) in saved.State)
                {
                    if (!byId.TryGetValue(id, out var target))
                        throw new ArgumentException(
                            $"Cannot load the {Name} state: it has state for parameter index {id}, which no parameter group lists.", nameof(saved));
                    var ps = new ParamState();
                    loaded.Add((target.Param, ps));
                    foreach (var (key, value) in entries) ImportEntry(ps, target.Param, target.Label, key, value);
                }
            var newGroups = new List<ParamGroup>();
            for (var gi = 0; gi < _groups.Count; gi++)
            {
                var copy = new ParamGroup(_groups[gi].Parameters, _groups[gi].Hyperparameters, _groups[gi].Names, _groups[gi].Options);
                ImportGroup(copy, saved.ParamGroups[gi], gi);
                Schema?.Validate(copy, $"Cannot load the {Name} state: parameter group {gi}");
                CheckVersion(copy, $"Cannot load the {Name} state: parameter group {gi}", Behaviour, _semantics);
                ValidateGroup(copy, $"Cannot load the {Name} state: parameter group {gi}");
                newGroups.Add(copy);
            }
            // Commit: group objects are kept (schedules hold them), their values replaced.
            for (var gi = 0; gi < _groups.Count; gi++) CopyValues(newGroups[gi], _groups[gi]);
        }
        catch
        {
            foreach (var (_, s) in loaded) s.Dispose();
            throw;
        }
        foreach (var s in _state.Values) s.Dispose();
        _state.Clear();
        foreach (var (p, s) in loaded) _state[p] = s;
        StepCount = saved.StepCount;
    }

    /// <summary>
    /// The shape a loaded state tensor must have for <paramref name="parameter"/>, or null to accept any. By default
    /// every tensor with at least one dimension must have the parameter's shape; 0-dim tensors are accepted.
    /// </summary>
    protected virtual long[]? ExpectedStateShape(ITensor parameter, string key, ITensor value) =>
        value.Dim == 0 ? null : parameter.Shape;

    private Dictionary<string, object?> ExportGroup(ParamGroup g)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        var covered = new HashSet<string>(StringComparer.Ordinal);
        if (Schema != null)
            foreach (var hp in Schema.HyperParameters)
            {
                covered.UnionWith(hp.Keys);
                if (!hp.Settable && !hp.Keys.All(g.Has)) continue;
                if (!Behaviour.Includes(hp.AddedIn)) continue;   // that PyTorch has no such key
                switch (hp.Kind)
                {
                    case HyperParameterKind.Number:
                        d[hp.Name] = g.TryGet(hp.Name, out var n) ? n : null;
                        break;
                    case HyperParameterKind.Integer:
                        d[hp.Name] = g.TryGet(hp.Name, out var l) ? (long)l : null;
                        break;
                    case HyperParameterKind.Pair:
                        d[hp.Name] = new[] { g[hp.Keys[0]], g[hp.Keys[1]] };
                        break;
                    case HyperParameterKind.Flag:
                    case HyperParameterKind.Text:
                        d[hp.Name] = g.Options.GetValueOrDefault(hp.Name);
                        break;
                }
            }
        foreach (var (k, v) in g.Hyperparameters)
            if (!covered.Contains(k)) d[k] = v;
        foreach (var (k, v) in g.Options)
            if (!covered.Contains(k)) d[k] = v;
        return d;
    }

    private Dictionary<string, object?> ExportState(ParamState s)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        var scalars = TensorScalarState;
        foreach (var (k, v) in s.Values)
            d[k] = v switch
            {
                ITensor t => t.Clone().DetachFromScope(),
                ITensor[] list => list.Select(t => t.Clone().DetachFromScope()).ToArray(),
                long or double when scalars.Any(x => x.Key == k) =>
                    _backend.Scalar(Convert.ToDouble(v), DType.Float32, Device.Cpu).DetachFromScope(),
                _ => v,
            };
        return d;
    }

    private void ImportEntry(ParamState ps, ITensor param, string label, string key, object? value)
    {
        var scalar = TensorScalarState.FirstOrDefault(x => x.Key == key);
        if (scalar.Key == null) scalar = NumberState.FirstOrDefault(x => x.Key == key);
        if (scalar.Key != null)
        {
            var number = value switch
            {
                ITensor t when t.NumberOfElements == 1 => t.Item(),
                double d => d,
                long l => l,
                int i => i,
                float f => f,
                _ => throw new ArgumentException($"Cannot load the {Name} state: {label} has '{key}' = {value ?? "null"}, expected a number or a one-element tensor."),
            };
            if (scalar.Integer) ps.Set(key, (long)number);
            else ps.Set(key, number);
            return;
        }
        switch (value)
        {
            case ITensor t:
                ps.Set(key, ImportTensor(param, label, key, t));
                break;
            case ITensor[] list:
                ps.Set(key, list.Select(t => ImportTensor(param, label, key, t)).ToArray());
                break;
            case long l: ps.Set(key, l); break;
            case int i: ps.Set(key, (long)i); break;
            case double d: ps.Set(key, d); break;
            case float f: ps.Set(key, (double)f); break;
            case bool b: ps.Set(key, b); break;
            case null: ps.SetNull(key); break;
            default:
                throw new ArgumentException(
                    $"Cannot load the {Name} state: {label} has '{key}' of type {value?.GetType().Name ?? "null"}; expected a tensor, a tensor list, a number or a bool.");
        }
    }

    private ITensor ImportTensor(ITensor param, string label, string key, ITensor t)
    {
        var want = ExpectedStateShape(param, key, t);
        if (want != null && !want.SequenceEqual(t.Shape))
            throw new ArgumentException(
                $"Cannot load the {Name} state: {label} has shape [{string.Join(", ", param.Shape)}] but its saved '{key}' has shape " +
                $"[{string.Join(", ", t.Shape)}] (expected [{string.Join(", ", want)}]).");
        // As PyTorch's load_state_dict: floating state follows the parameter's dtype and device, except 'step'.
        ITensor result = t.Clone();
        if (key != "step")
        {
            if (param.DType.IsFloatingPoint() && t.DType.IsFloatingPoint() && t.DType != param.DType)
            {
                var cast = result.ToDType(param.DType);
                result.Dispose();
                result = cast;
            }
            if (t.Device != param.Device)
            {
                var moved = result.ToDevice(param.Device);
                result.Dispose();
                result = moved;
            }
        }
        return result;
    }

    private void ImportGroup(ParamGroup target, Dictionary<string, object?> saved, int index)
    {
        foreach (var (k, v) in saved)
        {
            if (k == "params") continue;
            var hp = Schema?.Find(k);
            try
            {
                if (hp != null) Schema!.Store(hp, target, v);
                else
                    switch (v)
                    {
                        case double d: target[k] = d; break;
                        case long l: target[k] = l; break;
                        case int i: target[k] = i; break;
                        case float f: target[k] = f; break;
                        case null or bool or string: target.SetOption(k, v); break;
                        // Other PyTorch entries (lists, ...) have no meaning here.
                    }
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Cannot load the {Name} state: parameter group {index}: {e.Message}", k, e);
            }
        }
    }

    private static void CopyValues(ParamGroup from, ParamGroup to)
    {
        foreach (var (k, v) in from.Hyperparameters) to[k] = v;
        foreach (var k in to.Hyperparameters.Keys.ToList())
            if (!from.Has(k)) to.SetNull(k);
        foreach (var (k, v) in from.Options) to.SetOption(k, v);
    }

    private static long[]? ToIds(object? raw) => raw switch
    {
        long[] a => a,
        int[] a => a.Select(x => (long)x).ToArray(),
        IEnumerable<long> e => e.ToArray(),
        IEnumerable<int> e => e.Select(x => (long)x).ToArray(),
        IEnumerable<object> e => e.Select(Convert.ToInt64).ToArray(),
        _ => null,
    };

    // ------------------------------------------------------------------ lifetime

    /// <summary>Throws <see cref="ObjectDisposedException"/> after <see cref="Dispose()"/>.</summary>
    protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Frees the state tensors. The parameters are not touched.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Dispose(true);
        foreach (var s in _state.Values) s.Dispose();
        _state.Clear();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees what a derived class holds besides <see cref="StateOf"/> entries.</summary>
    protected virtual void Dispose(bool disposing) { }

    /// <summary>PyTorch's repr: the class and each group's settings.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Name).Append(" (");
        for (var i = 0; i < _groups.Count; i++)
        {
            sb.Append('\n').Append("Parameter Group ").Append(i).Append('\n');
            foreach (var (k, v) in ExportGroup(_groups[i]).OrderBy(e => e.Key, StringComparer.Ordinal))
                sb.Append("    ").Append(k).Append(": ").Append(Format(v)).Append('\n');
        }
        return sb.Append(')').ToString();
    }

    private static string Format(object? v) => v switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        double d => ValidRange.Fmt(d),
        double[] a => $"({string.Join(", ", a.Select(ValidRange.Fmt))})",
        string s => s,
        _ => v.ToString() ?? "",
    };
}
