using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

/// <summary>Measurements used by the benchmarks.</summary>
public static class Diagnostics
{
    /// <summary>
    /// Nanoseconds for <paramref name="iterations"/> out-of-place <c>a + b</c> run inside C++ — libtorch's own cost
    /// of a small op, with no binding in between.
    /// </summary>
    public static long NativeAddLoopNanoseconds(Tensor a, Tensor b, long iterations)
    {
        var ns = N.mls_diag_add_loop(a.Handle, b.Handle, iterations);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        if (ns < 0) throw NativeErrors.Last();
        return ns;
    }
}
