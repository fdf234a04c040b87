using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLLrSched.TorchSharpBackend;

/// <summary>
/// Makes the matrix products of TorchSharp's libtorch reproducible: <c>MKL_CBWR=AUTO,STRICT</c> (MKL's conditional
/// numerical reproducibility, strict mode), set in the C environment before MKL first runs, unless the user has set
/// MKL_CBWR already or opted out with <c>MLLRSCHED_MKL_CBWR=0</c>.
/// </summary>
/// <remarks>
/// TorchSharp's libtorch (PyTorch's release build) does its float matrix products with MKL, and by default MKL picks
/// among code paths by the memory alignment of the operands. The same product on the same numbers can then round
/// differently from one call to the next — within one process, depending on where the allocator put the tensors — and a
/// training run amplifies that: measured on TorchSharp 0.107 (libtorch 2.10, AMD EPYC), the same 100 Adam steps ran
/// twice in one process ended with different weights, and 35 of 48 optimizer cases differed between two runs of the
/// same test. That breaks what checkpoints promise (a resumed run equal to the uninterrupted one, bit for bit). Strict
/// CNR mode keeps MKL's fastest instruction set for the CPU (AUTO) and makes results independent of alignment and
/// run; the products measured on small and mid-sized matrices (8×16 to 128×784) took the same time within the noise of
/// a busy 2-core machine. MKL reads the setting once, at its first use, so it is applied when this assembly is first
/// used and again before the engine loads libtorch; if the application ran MKL products through TorchSharp before
/// that, it is too late, and only exporting MKL_CBWR before the process starts helps.
/// </remarks>
internal static class MklReproducibility
{
    /// <summary>The variable MKL reads.</summary>
    public const string Variable = "MKL_CBWR";
    /// <summary>What the engine sets: the CPU's best code path, reproducible for any alignment and thread count.</summary>
    public const string Value = "AUTO,STRICT";
    /// <summary>The opt-out: <c>MLLRSCHED_MKL_CBWR=0</c> leaves MKL as it is.</summary>
    public const string OptOutVariable = "MLLRSCHED_MKL_CBWR";

    private static readonly object Gate = new();
    private static bool _done;

    /// <summary>"MKL_CBWR=AUTO,STRICT" when the engine set it, "MKL_CBWR=… (set by the user)" when it found one, or null
    /// (opted out, or not applicable on this platform).</summary>
    public static string? Setting { get; private set; }

#pragma warning disable CA2255 // The setting must be in place before TorchSharp's first product, whichever of our types is used first.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void ApplyOnce()
    {
        lock (Gate)
        {
            if (_done) return;
            _done = true;
            try
            {
                if (OperatingSystem.IsWindows())
                {
                    // The process environment block, which native code reads through GetEnvironmentVariable.
                    if (Environment.GetEnvironmentVariable(OptOutVariable) == "0") return;
                    if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } user) { Setting = $"{Variable}={user} (set by the user)"; return; }
                    Environment.SetEnvironmentVariable(Variable, Value);
                    Setting = $"{Variable}={Value}";
                    return;
                }
                // MKL is x86's (TorchSharp's macOS builds use Accelerate): Linux is the other platform it runs on.
                if (!OperatingSystem.IsLinux() || GetEnv(OptOutVariable) == "0") return;
                if (GetEnv(Variable) is { Length: > 0 } existing) { Setting = $"{Variable}={existing} (set by the user)"; return; }
                // .NET keeps its own copy of the environment; MKL reads the C one (getenv).
                if (setenv(Variable, Value, 0) == 0)
                {
                    Environment.SetEnvironmentVariable(Variable, Value);
                    Setting = $"{Variable}={Value}";
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // Not glibc (a musl system): MKL keeps its defaults.
            }
        }
    }

    private static string? GetEnv(string name)
    {
        var p = getenv(name);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }

    [DllImport("libc.so.6", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr getenv(string name);

    [DllImport("libc.so.6", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
