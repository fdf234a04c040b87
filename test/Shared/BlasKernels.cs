using System.Runtime.InteropServices;

namespace MLLrSched.Tests.Shared;

/// <summary>The OpenBLAS kernel family this process's BLAS runs (what <c>openblas_get_corename</c> says: the CPU's own, or
/// the one OPENBLAS_CORETYPE forces). Golden files record the one they were made with; bit-for-bit comparisons with a
/// committed file only hold under the same one.</summary>
internal static class BlasKernels
{
    private static readonly Lazy<string> Core = new(Probe);

    /// <summary>E.g. "Haswell", "Cooperlake"; "unknown (not OpenBLAS)" when the BLAS is another.</summary>
    public static string OpenBlasCore => Core.Value;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr CoreName();

    private static string Probe()
    {
        foreach (var name in new[] { "libblas.so.3", "libopenblas.so.0" })
        {
            if (!NativeLibrary.TryLoad(name, out var lib)) continue;
            if (!NativeLibrary.TryGetExport(lib, "openblas_get_corename", out var fn)) continue;
            return Marshal.PtrToStringAnsi(Marshal.GetDelegateForFunctionPointer<CoreName>(fn)()) ?? "unknown";
        }
        return "unknown (not OpenBLAS)";
    }
}
