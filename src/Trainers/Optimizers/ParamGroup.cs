using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// A group of parameters with its own hyperparameters, as in PyTorch's <c>optimizer.param_groups</c>.
/// Numeric hyperparameters are stored under PyTorch's names (<c>lr</c>, <c>momentum</c>,
/// <c>weight_decay</c>, <c>eps</c>, ...); Adam-style betas are stored as <c>beta1</c> and <c>beta2</c>
/// (JSON and state dicts still use the <c>betas</c> pair). Schedules write into these values between
/// steps; optimizers read them at every step.
/// </summary>
/// <remarks>
/// Non-numeric settings (PyTorch's per-group booleans such as <c>amsgrad</c>, <c>nesterov</c>,
/// <c>maximize</c>, and strings such as LBFGS's <c>line_search_fn</c>) live in <see cref="Options"/>.
/// A group may leave any setting out; the optimizer fills it from its defaults when the group is added
/// (PyTorch's <c>param_group.setdefault(name, default)</c>).
/// </remarks>
public sealed class ParamGroup
{
    private readonly Dictionary<string, double> _values;
    private readonly Dictionary<string, object?> _options;
    private readonly HashSet<string> _explicitNulls = new(StringComparer.Ordinal);

    /// <summary>Creates a group.</summary>
    /// <param name="parameters">The parameters (tensors with RequiresGrad) the group updates.</param>
    /// <param name="hyperparameters">Initial numeric hyperparameters by PyTorch name.</param>
    /// <param name="names">Parameter names for messages and state dicts; defaults to <c>param{i}</c>.</param>
    /// <param name="options">Initial non-numeric settings by PyTorch name: <see cref="bool"/>, <see cref="string"/> or null.</param>
    public ParamGroup(IEnumerable<ITensor> parameters, IReadOnlyDictionary<string, double>? hyperparameters = null,
        IEnumerable<string>? names = null, IReadOnlyDictionary<string, object?>? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        _values = hyperparameters == null ? new() : new Dictionary<string, double>(hyperparameters);
        _options = new Dictionary<string, object?>();
        if (options != null)
            foreach (var (k, v) in options) SetOption(k, v);
        Names = names?.ToArray() ?? Enumerable.Range(0, Parameters.Count).Select(i => $"param{i}").ToArray();
        if (Names.Count != Parameters.Count)
            throw new ArgumentException($"ParamGroup got {Parameters.Count} parameters but {Names.Count} names.", nameof(names));
    }

    /// <summary>A group of named parameters (e.g. from <see cref="IModel.NamedParameters"/>).</summary>
    public static ParamGroup FromNamed(IEnumerable<NamedTensor> parameters, IReadOnlyDictionary<string, double>? hyperparameters = null,
        IReadOnlyDictionary<string, object?>? options = null)
    {
        var list = parameters.ToArray();
        return new ParamGroup(list.Select(p => p.Tensor), hyperparameters, list.Select(p => p.Name), options);
    }

    /// <summary>The parameters this group updates.</summary>
    public IReadOnlyList<ITensor> Parameters { get; }

    /// <summary>Names of <see cref="Parameters"/>, index for index.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>All numeric hyperparameters by name.</summary>
    public IReadOnlyDictionary<string, double> Hyperparameters => _values;

    /// <summary>All non-numeric settings (booleans, strings, nulls) by name.</summary>
    public IReadOnlyDictionary<string, object?> Options => _options;

    /// <summary>A hyperparameter by PyTorch name.</summary>
    /// <exception cref="KeyNotFoundException">The group has no such hyperparameter; the message lists those it has.</exception>
    public double this[string name]
    {
        get => _values.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException(
            $"This parameter group has no hyperparameter '{name}'. It has: {string.Join(", ", _values.Keys.OrderBy(k => k, StringComparer.Ordinal))}.");
        set
        {
            _values[name] = value;
            _explicitNulls.Remove(name);
        }
    }

    /// <summary>True when the group has the hyperparameter.</summary>
    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>Reads a hyperparameter if present.</summary>
    public bool TryGet(string name, out double value) => _values.TryGetValue(name, out value);

    /// <summary>Sets <paramref name="name"/> only when the group does not have it yet (PyTorch's <c>setdefault</c>).</summary>
    public void SetDefault(string name, double value)
    {
        if (!_explicitNulls.Contains(name)) _values.TryAdd(name, value);
    }

    /// <summary>
    /// Sets an optional numeric hyperparameter to PyTorch's <c>None</c> (e.g. Adafactor's <c>lr</c> or <c>beta1</c>):
    /// the key is removed and <see cref="SetDefault"/> no longer fills it in.
    /// </summary>
    public void SetNull(string name)
    {
        _values.Remove(name);
        _explicitNulls.Add(name);
    }

    /// <summary>True when <paramref name="name"/> was set to None with <see cref="SetNull"/>.</summary>
    public bool IsNull(string name) => _explicitNulls.Contains(name);

    internal IEnumerable<string> NullKeys => _explicitNulls;

    /// <summary>The learning rate (<c>lr</c>).</summary>
    public double Lr
    {
        get => this["lr"];
        set => this["lr"] = value;
    }

    /// <summary>True when the group has the non-numeric setting (even when its value is null).</summary>
    public bool HasOption(string name) => _options.ContainsKey(name);

    /// <summary>Sets a non-numeric setting: a <see cref="bool"/>, a <see cref="string"/> or null.</summary>
    /// <exception cref="ArgumentException">The value is of another type.</exception>
    public void SetOption(string name, object? value)
    {
        if (value is not (null or bool or string))
            throw new ArgumentException(
                $"Option '{name}' must be a bool, a string or null, got {value.GetType().Name}; numeric settings go through the indexer.", nameof(value));
        _options[name] = value;
    }

    /// <summary>Sets a non-numeric setting only when the group does not have it yet.</summary>
    public void SetDefaultOption(string name, object? value)
    {
        if (!_options.ContainsKey(name)) SetOption(name, value);
    }

    /// <summary>A boolean setting (e.g. <c>amsgrad</c>, <c>nesterov</c>, <c>maximize</c>).</summary>
    /// <exception cref="KeyNotFoundException">The group has no such setting, or it is not a boolean.</exception>
    public bool GetFlag(string name) => _options.TryGetValue(name, out var v) && v is bool b ? b : throw new KeyNotFoundException(
        $"This parameter group has no boolean option '{name}'. It has: {string.Join(", ", _options.Keys.OrderBy(k => k, StringComparer.Ordinal))}.");

    /// <summary>A string setting, or null when set to null (e.g. LBFGS's <c>line_search_fn</c>).</summary>
    /// <exception cref="KeyNotFoundException">The group has no such setting.</exception>
    public string? GetText(string name) => _options.TryGetValue(name, out var v) ? v as string : throw new KeyNotFoundException(
        $"This parameter group has no option '{name}'. It has: {string.Join(", ", _options.Keys.OrderBy(k => k, StringComparer.Ordinal))}.");
}
