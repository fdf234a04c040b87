namespace MLLrSched.Torch;

/// <summary>
/// Frees native tensors deterministically: every <see cref="Tensor"/> created on this thread while the
/// scope is the innermost open one is disposed when the scope is, unless it was detached
/// (<see cref="Tensor.DetachFromScope"/>) or moved out (<see cref="Tensor.MoveToOuterScope"/>).
/// </summary>
/// <example>
/// <code>
/// using (var scope = TensorScope.Open())
/// {
///     var loss = F.CrossEntropy(model.Forward(x), y);  // temporaries register with the scope
///     loss.Backward();
/// }                                                     // ...and are freed here, not by the GC
/// </code>
/// </example>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;

    private readonly List<Tensor> _owned = new();
    private TensorScope? _outer;
    private readonly int _threadId;
    private bool _disposed;

    private TensorScope()
    {
        _outer = _current;
        _threadId = Environment.CurrentManagedThreadId;
        _current = this;
    }

    /// <summary>Opens a scope on the current thread; scopes nest.</summary>
    public static TensorScope Open() => new();

    /// <summary>The innermost open scope on this thread, or null.</summary>
    public static TensorScope? Current => _current;

    /// <summary>Number of live tensors the scope owns (for diagnostics and tests).</summary>
    public int Count => _owned.Count(t => t.Scope == this && !t.IsDisposed);

    internal static void Register(Tensor t)
    {
        var s = _current;
        if (s == null) return;
        t.Scope = s;
        s._owned.Add(t);
    }

    internal void Adopt(Tensor t)
    {
        if (_disposed) throw new ObjectDisposedException(nameof(TensorScope));
        t.Scope = this;
        _owned.Add(t);
    }

    /// <summary>The scope that encloses this one, or null.</summary>
    public TensorScope? Outer => _outer;

    /// <summary>Disposes every tensor still owned and closes the scope.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _owned)
            if (t.Scope == this) t.Dispose();
        _owned.Clear();
        if (Environment.CurrentManagedThreadId == _threadId && _current == this) _current = _outer;
        else if (Environment.CurrentManagedThreadId == _threadId)
        {
            // Closed out of order: unlink it from the chain so later scopes do not see it.
            for (var s = _current; s != null; s = s._outer)
                if (s._outer == this) { s._outer = _outer; break; }
        }
    }
}
