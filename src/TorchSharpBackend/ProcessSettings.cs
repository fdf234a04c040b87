using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLLrSched.TorchSharpBackend;

/// <summary>
/// Two settings of the native libraries under TorchSharp, put into the C environment when this assembly is first used
/// (and again before the engine loads libtorch), so that they are in place before libtorch, MKL and libgomp read them.
/// Each is skipped when the user has set the variable already; see docs/torchsharp.md.
/// <list type="bullet">
/// <item><c>MKL_CBWR=AUTO,STRICT</c> (opt out: <c>MLLRSCHED_MKL_CBWR=0</c>): reproducible matrix products. TorchSharp's
/// libtorch (PyTorch's release build) multiplies with MKL, which by default picks among code paths by the operands'
/// memory alignment: nn.Linear's product x @ Wᵀ then rounds differently depending on where the allocator put the
/// tensors, within one process. Measured on TorchSharp 0.107 (libtorch 2.10, AMD EPYC): 4 different results over 16
/// alignments of the same 32×6 @ (5×6)ᵀ product, two different results of the same 100 Adam steps in one process, and
/// 35 of 48 optimizer cases differing between two runs of the same test — which breaks what checkpoints promise (a
/// resumed run equal to the uninterrupted one, bit for bit). Strict CNR mode keeps MKL's best instruction set for the
/// CPU (AUTO) and makes the results independent of alignment and run; products from 8×16 to 128×784 took the same
/// time within the noise of a busy 2-core machine.</item>
/// <item><c>OMP_WAIT_POLICY=PASSIVE</c> (opt out: <c>MLLRSCHED_PROCESS_TUNING=0</c>, as on the native engine):
/// libgomp's workers otherwise spin after every parallel region and take the cores the next operation needs; a tiny
/// MLP's trainer step went from 900 to 530 µs on a busy 2-core machine. libgomp reads it when it is loaded.</item>
/// </list>
/// If the application ran TorchSharp before any MLLrSched type was used, libtorch has already read its environment
/// and only exporting the variables before the process starts helps.
/// </summary>
internal static class ProcessSettings
{
    /// <summary>The opt-out of reproducible MKL: <c>MLLRSCHED_MKL_CBWR=0</c>.</summary>
    public const string MklOptOutVariable = "MLLRSCHED_MKL_CBWR";
    /// <summary>The opt-out of the speed setting, shared with the native engine: <c>MLLRSCHED_PROCESS_TUNING=0</c>.</summary>
    public const string TuningOptOutVariable = "MLLRSCHED_PROCESS_TUNING";

    private static readonly object Gate = new();
    private static readonly List<string> _applied = new();
    private static bool _done;

    /// <summary>What is in effect, e.g. "MKL_CBWR=AUTO,STRICT", "OMP_WAIT_POLICY=PASSIVE", or "MKL_CBWR=COMPATIBLE (set by
    /// the user)"; empty when opted out or not applicable here.</summary>
    public static IReadOnlyList<string> Applied
    {
        get { lock (Gate) return _applied.ToArray(); }
    }

#pragma warning disable CA2255 // The settings must be in place before TorchSharp loads libtorch, whichever of our types is used first.
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
                if (Get(MklOptOutVariable) != "0") Set("MKL_CBWR", "AUTO,STRICT");
                if (Get(TuningOptOutVariable) != "0") Set("OMP_WAIT_POLICY", "PASSIVE");
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // Not glibc (a musl system): the libraries keep their defaults.
            }
        }
    }

    private static void Set(string name, string value)
    {
        if (Get(name) is { Length: > 0 } user)
        {
            if (user != value || name != "MKL_CBWR") _applied.Add($"{name}={user} (set by the user)");
            else _applied.Add($"{name}={user}");
            return;
        }
        if (OperatingSystem.IsWindows())
        {
            // The process environment block, which native code reads through GetEnvironmentVariable.
            Environment.SetEnvironmentVariable(name, value);
            _applied.Add($"{name}={value}");
        }
        else if (OperatingSystem.IsLinux() && setenv(name, value, 0) == 0)
        {
            // .NET keeps its own copy of the environment; the native libraries read the C one (getenv). Child processes
            // started by .NET get .NET's copy, so it is updated too.
            Environment.SetEnvironmentVariable(name, value);
            _applied.Add($"{name}={value}");
        }
        // macOS: TorchSharp's builds there use Accelerate and no libgomp; nothing to set.
    }

    /// <summary>The C environment's value on Linux (what native libraries see), .NET's elsewhere.</summary>
    private static string? Get(string name)
    {
        if (!OperatingSystem.IsLinux()) return Environment.GetEnvironmentVariable(name);
        var p = getenv(name);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }

    [DllImport("libc.so.6", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr getenv(string name);

    [DllImport("libc.so.6", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
