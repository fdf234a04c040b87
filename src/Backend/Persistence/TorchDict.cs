using System.Collections;

namespace MLLrSched.Backend.Persistence;

/// <summary>
/// A Python <c>dict</c> (or <c>collections.OrderedDict</c>) as read from or written to a PyTorch file:
/// keys in insertion order, each a <see cref="string"/> or a <see cref="long"/> (a state_dict keys by
/// name, an optimizer's <c>state</c> by parameter index).
/// </summary>
/// <remarks>
/// Values are the file's value model: <c>null</c> (None), <see cref="bool"/>, <see cref="long"/>
/// (int), <see cref="double"/> (float), <see cref="string"/>, <see cref="ITensor"/>,
/// <see cref="TorchDict"/>, <see cref="List{T}"/> of <c>object?</c> (list) and <see cref="TorchTuple"/>.
/// When saving, <see cref="int"/> and <see cref="float"/> are accepted too and widened.
/// </remarks>
public sealed class TorchDict : IEnumerable<KeyValuePair<object, object?>>
{
    private readonly OrderedDictionary<object, object?> _items = new();

    /// <summary>An empty dict.</summary>
    public TorchDict() { }

    /// <summary>True when the file held a <c>collections.OrderedDict</c> (what <c>state_dict()</c>
    /// returns) rather than a plain <c>dict</c>. Informational: both keep their order, and C# writes
    /// plain dicts, which Python's <c>load_state_dict</c> accepts.</summary>
    public bool IsOrderedDict { get; set; }

    /// <summary>Python attributes the file set on the dict, or null. A module's <c>state_dict()</c>
    /// carries <c>_metadata</c> (per-submodule versions) this way. Kept for inspection; not saved.</summary>
    public TorchDict? Attributes { get; internal set; }

    /// <summary>Number of entries.</summary>
    public int Count => _items.Count;

    /// <summary>The keys in order (each a string or a long).</summary>
    public IEnumerable<object> Keys => _items.Keys;

    /// <summary>The values in key order.</summary>
    public IEnumerable<object?> Values => _items.Values;

    /// <summary>The value for a string key; setting adds the key at the end or replaces the value in place.</summary>
    /// <exception cref="KeyNotFoundException">No such key (the message lists the keys).</exception>
    public object? this[string key]
    {
        get => GetRaw(key);
        set => _items[CheckKey(key)] = value;
    }

    /// <summary>The value for an integer key (Python int keys, e.g. an optimizer's per-parameter state).</summary>
    /// <exception cref="KeyNotFoundException">No such key (the message lists the keys).</exception>
    public object? this[long key]
    {
        get => GetRaw(key);
        set => _items[key] = value;
    }

    /// <summary>Adds a string key (collection-initializer friendly); throws when it exists.</summary>
    public void Add(string key, object? value) => _items.Add(CheckKey(key), value);

    /// <summary>Adds an integer key; throws when it exists.</summary>
    public void Add(long key, object? value) => _items.Add(key, value);

    /// <summary>True when the key (a string, or an integer of any .NET integer type) is present.</summary>
    public bool ContainsKey(object key) => _items.ContainsKey(NormalizeKey(key));

    /// <summary>Looks a key up without throwing.</summary>
    public bool TryGetValue(object key, out object? value) => _items.TryGetValue(NormalizeKey(key), out value);

    /// <summary>Removes a key; false when it was absent.</summary>
    public bool Remove(object key) => _items.Remove(NormalizeKey(key));

    /// <summary>
    /// The value for <paramref name="key"/> as <typeparamref name="T"/>, with Python's numeric
    /// widening (an int where a float is asked for). Throws with the key, the expected and the actual
    /// type when the value is something else.
    /// </summary>
    public T Get<T>(object key) => TorchValues.As<T>(GetRaw(NormalizeKey(key)), $"[{FormatKey(key)}]");

    /// <summary>
    /// This dict as a state_dict (name → tensor, same order, same tensor objects), e.g. the
    /// <c>"model"</c> entry of a loaded checkpoint.
    /// </summary>
    /// <exception cref="InvalidCastException">A key is not a string or a value is not a tensor (the message names it).</exception>
    public OrderedDictionary<string, ITensor> ToStateDict() => ToStateDict<ITensor>();

    /// <summary>
    /// This dict as a state_dict of an engine's own tensor type, e.g. <c>ToStateDict&lt;Tensor&gt;()</c> for the
    /// native engine (the tensors a file loaded on that engine holds).
    /// </summary>
    /// <exception cref="InvalidCastException">A key is not a string or a value is not a <typeparamref name="T"/> (the message names it).</exception>
    public OrderedDictionary<string, T> ToStateDict<T>() where T : class, ITensor
    {
        var result = new OrderedDictionary<string, T>(Count);
        foreach (var (key, value) in _items)
        {
            if (key is not string name)
                throw new InvalidCastException($"Not a state_dict: key {FormatKey(key)} is not a string.");
            result.Add(name, value as T ?? throw new InvalidCastException(
                $"Not a state_dict: entry '{name}' is {TorchValues.Describe(value)}, not a tensor{(typeof(T) == typeof(ITensor) ? "" : $" of type {typeof(T).Name}")}."));
        }
        return result;
    }

    /// <summary>Enumerates the entries in order.</summary>
    public IEnumerator<KeyValuePair<object, object?>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => $"{(IsOrderedDict ? "OrderedDict" : "dict")} with {Count} entries";

    private object? GetRaw(object key)
    {
        if (_items.TryGetValue(key, out var v)) return v;
        var keys = string.Join(", ", _items.Keys.Take(20).Select(FormatKey));
        throw new KeyNotFoundException(
            $"Key {FormatKey(key)} is not in the dict. Keys: {(keys.Length == 0 ? "(none)" : keys)}{(Count > 20 ? ", ..." : "")}.");
    }

    internal static string FormatKey(object key) => key is string s ? $"'{s}'" : Convert.ToString(key, System.Globalization.CultureInfo.InvariantCulture) ?? "?";

    private static string CheckKey(string key) => key ?? throw new ArgumentNullException(nameof(key), "Dict keys cannot be null.");

    /// <summary>Keys are strings or longs; other integer types are widened so 0 and 0L find the same entry.</summary>
    internal static object NormalizeKey(object key) => key switch
    {
        string or long => key,
        int or short or sbyte or byte or ushort or uint => Convert.ToInt64(key),
        null => throw new ArgumentNullException(nameof(key), "Dict keys cannot be null."),
        _ => throw new ArgumentException(
            $"A dict key of type {key.GetType().Name} is not supported; keys are strings (state_dict names) or integers (optimizer state indices).",
            nameof(key)),
    };

    internal void SetNormalized(object key, object? value) => _items[key] = value;
}
