using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// A group of parameters with its own hyperparameters, as in PyTorch's <c>optimizer.param_groups</c>.
/// Numeric hyperparameters are stored under PyTorch's names (<c>lr</c>, <c>momentum</c>,
/// <c>weight_decay</c>, <c>eps</c>, ...); Adam-style betas are stored as <c>beta1</c> and <c>beta2</c>
/// (JSON and state dicts still use the <c>betas</c> pair). Schedules write into these values between
/// steps; optimizers read them at every step.
/// </summary>
public sealed class ParamGroup
{
    private readonly Dictionary<string, double> _values;

    /// <summary>Creates a group.</summary>
    /// <param name="parameters">The parameters (tensors with RequiresGrad) the group updates.</param>
    /// <param name="hyperparameters">Initial numeric hyperparameters by PyTorch name.</param>
    /// <param name="names">Parameter names for messages and state dicts; defaults to <c>param{i}</c>.</param>
    public ParamGroup(IEnumerable<ITensor> parameters, IReadOnlyDictionary<string, double>? hyperparameters = null,
        IEnumerable<string>? names = null)
    {
        Parameters = parameters.ToArray();
        _values = hyperparameters == null ? new() : new Dictionary<string, double>(hyperparameters);
        Names = names?.ToArray() ?? Enumerable.Range(0, Parameters.Count).Select(i => $"param{i}").ToArray();
        if (Names.Count != Parameters.Count)
            throw new ArgumentException($"ParamGroup got {Parameters.Count} parameters but {Names.Count} names.", nameof(names));
    }

    /// <summary>The parameters this group updates.</summary>
    public IReadOnlyList<ITensor> Parameters { get; }

    /// <summary>Names of <see cref="Parameters"/>, index for index.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>All numeric hyperparameters by name.</summary>
    public IReadOnlyDictionary<string, double> Hyperparameters => _values;

    /// <summary>A hyperparameter by PyTorch name.</summary>
    /// <exception cref="KeyNotFoundException">The group has no such hyperparameter; the message lists those it has.</exception>
    public double this[string name]
    {
        get => _values.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException(
            $"This parameter group has no hyperparameter '{name}'. It has: {string.Join(", ", _values.Keys.OrderBy(k => k, StringComparer.Ordinal))}.");
        set => _values[name] = value;
    }

    /// <summary>True when the group has the hyperparameter.</summary>
    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>Reads a hyperparameter if present.</summary>
    public bool TryGet(string name, out double value) => _values.TryGetValue(name, out value);

    /// <summary>Sets <paramref name="name"/> only when the group does not have it yet (PyTorch's <c>setdefault</c>).</summary>
    public void SetDefault(string name, double value) => _values.TryAdd(name, value);

    /// <summary>The learning rate (<c>lr</c>).</summary>
    public double Lr
    {
        get => this["lr"];
        set => this["lr"] = value;
    }
}
