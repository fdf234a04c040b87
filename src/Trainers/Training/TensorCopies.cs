using MLLrSched.Backend;

namespace MLLrSched.Training;

/// <summary>Owned copies of model tensors (EMA/SWA shadows, early-stopping snapshots, EMA swap-outs).</summary>
internal static class TensorCopies
{
    /// <summary>
    /// A copy of <paramref name="t"/>'s values with no autograd history, owned by the caller (outside any scope). The
    /// intermediate detached alias is released here: an alias left to the caller's scope — or, with no scope open,
    /// to nobody — would keep a handle, and with it the source's storage, alive after the model is gone.
    /// </summary>
    public static ITensor DetachedClone(ITensor t)
    {
        using var alias = t.Detach();
        return alias.Clone().DetachFromScope();
    }
}
