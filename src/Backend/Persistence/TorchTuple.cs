using System.Collections;

namespace MLLrSched.Backend.Persistence;

/// <summary>
/// A Python <c>tuple</c> as read from or written to a PyTorch file (e.g. Adam's <c>betas</c>). Immutable;
/// items use the same value model as <see cref="TorchDict"/>.
/// </summary>
public sealed class TorchTuple : IReadOnlyList<object?>
{
    private readonly object?[] _items;

    /// <summary>A tuple of the given items (copied).</summary>
    public TorchTuple(params object?[] items) => _items = (object?[])(items ?? throw new ArgumentNullException(nameof(items))).Clone();

    /// <summary>Wraps an array the reader built; it owns the array.</summary>
    internal static TorchTuple Wrap(object?[] items) => new(items, wrap: true);

    private TorchTuple(object?[] items, bool wrap) => _items = items;

    /// <summary>Number of items.</summary>
    public int Count => _items.Length;

    /// <summary>The item at <paramref name="index"/>.</summary>
    public object? this[int index] => _items[index];

    /// <summary>The item at <paramref name="index"/> as <typeparamref name="T"/> (ints widen to floats as in Python).</summary>
    public T Get<T>(int index)
    {
        if ((uint)index >= (uint)_items.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The tuple has {_items.Length} items.");
        return TorchValues.As<T>(_items[index], $"[{index}]");
    }

    /// <summary>The reader replaces tensor placeholders in place once the storages are loaded.</summary>
    internal object?[] Items => _items;

    /// <summary>Enumerates the items.</summary>
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => $"tuple of {Count} items";
}
