using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

/// <summary>
/// A CPU random generator (libtorch's Philox/MT19937 CPU generator). Pass one to the random
/// factories for a stream independent of the default generator.
/// </summary>
public sealed class Generator : IDisposable
{
    private IntPtr _handle;

    /// <summary>A generator seeded with <paramref name="seed"/>.</summary>
    public Generator(long seed) => _handle = NativeErrors.Check(N.mls_generator_new(unchecked((ulong)seed)));

    internal IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(Generator));

    /// <summary>Re-seeds the generator.</summary>
    public void ManualSeed(long seed)
    {
        NativeErrors.Check(N.mls_generator_manual_seed(Handle, unchecked((ulong)seed)));
        GC.KeepAlive(this);
    }

    /// <summary>The full generator state (to save in a checkpoint).</summary>
    public byte[] GetState() => ReadState(Handle, this);

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    public void SetState(byte[] state) => WriteState(Handle, state, this);

    /// <summary>State of libtorch's default CPU generator.</summary>
    public static byte[] GetDefaultState() => ReadState(IntPtr.Zero, null);

    /// <summary>Restores libtorch's default CPU generator.</summary>
    public static void SetDefaultState(byte[] state) => WriteState(IntPtr.Zero, state, null);

    private static byte[] ReadState(IntPtr h, object? keep)
    {
        using var t = Tensor.FromHandle(N.mls_generator_get_state(h));
        GC.KeepAlive(keep);
        return t.ToArray<byte>();
    }

    private static void WriteState(IntPtr h, byte[] state, object? keep)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var t = Tensor.FromArray<byte>(state);
        NativeErrors.Check(N.mls_generator_set_state(h, t.Handle));
        GC.KeepAlive(keep);
    }

    /// <summary>Frees the generator.</summary>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) N.mls_generator_free(h);
        GC.SuppressFinalize(this);
    }

    /// <summary>Safety net for generators nobody disposed.</summary>
    ~Generator()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) N.mls_generator_free(h);
    }
}
