using System.Runtime.InteropServices;

namespace MLLrSched.Torch.Native;

/// <summary>
/// Two process settings that make CPU training on libtorch several times faster, applied once, just before the native
/// shim (and with it libtorch, libgomp and OpenBLAS) is loaded. Each is skipped when the user has set it already, and
/// all are skipped with <c>MLLRSCHED_PROCESS_TUNING=0</c>. See docs/binding.md, "Process tuning".
/// <list type="bullet">
/// <item><c>OMP_WAIT_POLICY=PASSIVE</c>: libtorch's OpenMP workers otherwise spin for a while after every parallel
/// region and take the cores that OpenBLAS's own threads need for the next matrix product (measured on 2 cores:
/// PyTorch's MLP step 20 ms → 15 ms with this alone). libgomp reads it when it is loaded, so it must be in the C
/// environment (setenv; .NET's Environment keeps its own copy) before libtorch loads.</item>
/// <item>glibc's <c>mallopt</c>: an mmap threshold of 32 MiB and a trim threshold of 256 MiB, so a step's activation
/// and gradient buffers (a few hundred KB to a few MB each) are reused from the heap instead of being mapped, faulted
/// in page by page and unmapped again every step (12 ms → 5.6 ms together with the first). Memory still peaks at
/// what a step needs; up to 256 MiB freed at the top of the heap is kept for the next step instead of being returned
/// to the system at once.</item>
/// </list>
/// </summary>
internal static class ProcessTuning
{
    /// <summary>The opt-out switch: <c>MLLRSCHED_PROCESS_TUNING=0</c> leaves the process as it is.</summary>
    public const string OptOutVariable = "MLLRSCHED_PROCESS_TUNING";

    private const int MallocTrimThreshold = -1;   // M_TRIM_THRESHOLD in malloc.h
    private const int MallocMmapThreshold = -3;   // M_MMAP_THRESHOLD in malloc.h
    private const int MmapThresholdBytes = 32 << 20;
    private const int TrimThresholdBytes = 256 << 20;

    private static readonly List<string> _applied = new();
    private static bool _done;

    /// <summary>What was applied, e.g. "OMP_WAIT_POLICY=PASSIVE", or empty (opted out, or the user's settings kept).</summary>
    public static IReadOnlyList<string> Applied
    {
        get { lock (_applied) return _applied.ToArray(); }
    }

    /// <summary>Applies the settings once; called by the loader before the first load of the shim.</summary>
    public static void ApplyOnce()
    {
        lock (_applied)
        {
            if (_done) return;
            _done = true;
            if (!OperatingSystem.IsLinux() || GetEnv(OptOutVariable) == "0") return;
            try
            {
                // setenv while other threads may read the environment: .NET never calls setenv itself, so this is the
                // process's first, and glibc's first setenv copies the environment into a new array without freeing
                // the old one, which a concurrent getenv may still be reading.
                if (GetEnv("OMP_WAIT_POLICY") == null && setenv("OMP_WAIT_POLICY", "PASSIVE", 0) == 0)
                    _applied.Add("OMP_WAIT_POLICY=PASSIVE");
                // glibc's own environment variables for the same settings win (they were read at process start).
                if (GetEnv("MALLOC_MMAP_THRESHOLD_") == null && mallopt(MallocMmapThreshold, MmapThresholdBytes) == 1)
                    _applied.Add($"mallopt(M_MMAP_THRESHOLD, {MmapThresholdBytes})");
                if (GetEnv("MALLOC_TRIM_THRESHOLD_") == null && mallopt(MallocTrimThreshold, TrimThresholdBytes) == 1)
                    _applied.Add($"mallopt(M_TRIM_THRESHOLD, {TrimThresholdBytes})");
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // Not glibc (mallopt missing): nothing to tune; libtorch runs as it would anyway.
            }
        }
    }

    /// <summary>The C environment's value (what native libraries see), not .NET's copy.</summary>
    private static string? GetEnv(string name)
    {
        var p = getenv(name);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }

    [DllImport("libc.so.6", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr getenv(string name);

    [DllImport("libc.so.6", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int setenv(string name, string value, int overwrite);

    [DllImport("libc.so.6")]
    private static extern int mallopt(int param, int value);
}
