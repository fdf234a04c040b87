using MLLrSched.Backend;

namespace MLLrSched.Training;

/// <summary>
/// Everything the range test changes in a model and its backend, copied before the test and put back after it:
/// parameter values, buffers (BatchNorm statistics and counters), gradients (present or None), training mode and
/// the backend's default random generator.
/// </summary>
/// <remarks>
/// Values are restored with in-place copies into the model's own tensors, so references the caller holds (an
/// optimizer, an EMA) still point at the model's parameters afterwards. Copies are made outside any caller's scope
/// and freed by <see cref="Dispose"/>.
/// </remarks>
internal sealed class LrFinderSnapshot : IDisposable
{
    private readonly IBackend _backend;
    private readonly NamedTensor[] _parameters;
    private readonly NamedTensor[] _buffers;
    private readonly ITensor?[] _grads;
    private readonly bool _training;
    private readonly byte[] _rng;
    private bool _disposed;

    private LrFinderSnapshot(IBackend backend, NamedTensor[] parameters, NamedTensor[] buffers, ITensor?[] grads, bool training, byte[] rng)
    {
        _backend = backend;
        _parameters = parameters;
        _buffers = buffers;
        _grads = grads;
        _training = training;
        _rng = rng;
    }

    /// <summary>Copies the model's current state.</summary>
    public static LrFinderSnapshot Take(IModel model)
    {
        var backend = model.Backend;
        using var noGrad = backend.NoGrad();
        var live = model.NamedParameters();
        var parameters = live.Select(p => new NamedTensor(p.Name, p.Tensor.Clone().DetachFromScope())).ToArray();
        var buffers = model.NamedBuffers().Select(b => new NamedTensor(b.Name, b.Tensor.Clone().DetachFromScope())).ToArray();
        var grads = new ITensor?[live.Count];
        for (var i = 0; i < live.Count; i++)
        {
            using var g = live[i].Tensor.Grad;
            grads[i] = g?.Clone().DetachFromScope();
        }
        return new LrFinderSnapshot(backend, parameters, buffers, grads, model.IsTraining, backend.GetRngState());
    }

    /// <summary>Writes the saved state back into <paramref name="model"/>.</summary>
    /// <exception cref="InvalidOperationException">The model's parameters or buffers changed in number or name during the test.</exception>
    public void Restore(IModel model)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var live = model.NamedParameters();
        var liveBuffers = model.NamedBuffers();
        Check(live, _parameters, "parameters");
        Check(liveBuffers, _buffers, "buffers");
        using (_backend.NoGrad())
        {
            for (var i = 0; i < live.Count; i++) live[i].Tensor.Copy_(_parameters[i].Tensor);
            for (var i = 0; i < liveBuffers.Count; i++) liveBuffers[i].Tensor.Copy_(_buffers[i].Tensor);
        }
        for (var i = 0; i < live.Count; i++)
        {
            if (_grads[i] is { } g)
            {
                // The parameter takes its own copy, so this snapshot can still be disposed independently.
                using var copy = g.Clone();
                live[i].Tensor.Grad = copy;
            }
            else live[i].Tensor.Grad = null;
        }
        model.SetTraining(_training);
        _backend.SetRngState(_rng);
    }

    private static void Check(IReadOnlyList<NamedTensor> live, NamedTensor[] saved, string what)
    {
        if (live.Count != saved.Length || live.Where((t, i) => t.Name != saved[i].Name).Any())
            throw new InvalidOperationException(
                $"The model's {what} changed during the LR range test ({saved.Length} before, {live.Count} after); the initial weights cannot be restored.");
    }

    /// <summary>Frees the copies.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var p in _parameters) p.Tensor.Dispose();
        foreach (var b in _buffers) b.Tensor.Dispose();
        foreach (var g in _grads) g?.Dispose();
    }
}
