using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// The optimizer state of one parameter (PyTorch's <c>optimizer.state[p]</c>): named tensors and numbers
/// such as <c>step</c>, <c>exp_avg</c>, <c>exp_avg_sq</c>, <c>momentum_buffer</c>. The state owns its tensors:
/// storing a tensor detaches it from any dispose scope, replacing or removing it disposes the old one.
/// </summary>
/// <remarks>Values are <see cref="ITensor"/>, <see cref="double"/>, <see cref="long"/>, <see cref="bool"/>,
/// <see cref="ITensor"/>[] (LBFGS's history), or null (SGD's <c>momentum_buffer</c> without momentum, as in PyTorch).</remarks>
public sealed class ParamState : IDisposable
{
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);

    /// <summary>Number of entries; 0 before the parameter's first update (PyTorch's <c>len(state) == 0</c>).</summary>
    public int Count => _values.Count;

    /// <summary>True before anything was stored.</summary>
    public bool IsEmpty => _values.Count == 0;

    /// <summary>The entries by name.</summary>
    public IReadOnlyDictionary<string, object?> Values => _values;

    /// <summary>True when an entry named <paramref name="key"/> exists.</summary>
    public bool Contains(string key) => _values.ContainsKey(key);

    /// <summary>A tensor entry.</summary>
    /// <exception cref="KeyNotFoundException">No tensor is stored under <paramref name="key"/>.</exception>
    public ITensor Tensor(string key) => _values.TryGetValue(key, out var v) && v is ITensor t ? t
        : throw Missing(key, "tensor");

    /// <summary>A tensor entry, or null.</summary>
    public ITensor? TensorOrNull(string key) => _values.TryGetValue(key, out var v) ? v as ITensor : null;

    /// <summary>A tensor-list entry (LBFGS's <c>old_dirs</c>).</summary>
    public ITensor[] TensorList(string key) => _values.TryGetValue(key, out var v) && v is ITensor[] t ? t
        : throw Missing(key, "tensor list");

    /// <summary>A whole-number entry (e.g. <c>step</c>).</summary>
    public long Long(string key) => _values.TryGetValue(key, out var v) && v is long l ? l : throw Missing(key, "whole number");

    /// <summary>A number entry.</summary>
    public double Double(string key) => _values.TryGetValue(key, out var v) ? v switch
    {
        double d => d,
        long l => l,
        _ => throw Missing(key, "number"),
    } : throw Missing(key, "number");

    /// <summary>A boolean entry.</summary>
    public bool Bool(string key) => _values.TryGetValue(key, out var v) && v is bool b ? b : throw Missing(key, "boolean");

    /// <summary>Stores a tensor, taking ownership (it is detached from any dispose scope).</summary>
    public void Set(string key, ITensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        value.DetachFromScope();
        Replace(key, value);
    }

    /// <summary>Stores a list of tensors, taking ownership of each.</summary>
    public void Set(string key, ITensor[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        foreach (var t in value) t.DetachFromScope();
        Replace(key, value);
    }

    /// <summary>Stores a whole number.</summary>
    public void Set(string key, long value) => Replace(key, value);

    /// <summary>Stores a number.</summary>
    public void Set(string key, double value) => Replace(key, value);

    /// <summary>Stores a boolean.</summary>
    public void Set(string key, bool value) => Replace(key, value);

    /// <summary>Stores PyTorch's <c>None</c>.</summary>
    public void SetNull(string key) => Replace(key, null);

    /// <summary>Removes an entry, disposing its tensors.</summary>
    public bool Remove(string key)
    {
        if (!_values.Remove(key, out var old)) return false;
        DisposeValue(old, null);
        return true;
    }

    /// <summary>Disposes every tensor and clears the state.</summary>
    public void Dispose()
    {
        foreach (var v in _values.Values) DisposeValue(v, null);
        _values.Clear();
    }

    private void Replace(string key, object? value)
    {
        if (_values.TryGetValue(key, out var old)) DisposeValue(old, value);
        _values[key] = value;
    }

    private static void DisposeValue(object? old, object? keep)
    {
        switch (old)
        {
            case ITensor t when !ReferenceEquals(t, keep):
                t.Dispose();
                break;
            case ITensor[] list:
                var kept = keep as ITensor[];
                foreach (var t in list)
                    if (kept == null || Array.IndexOf(kept, t) < 0) t.Dispose();
                break;
        }
    }

    private KeyNotFoundException Missing(string key, string what) => new(
        $"The optimizer state has no {what} '{key}'. It has: {string.Join(", ", _values.Keys.OrderBy(k => k, StringComparer.Ordinal))}.");
}
