using System.Diagnostics;
using System.Text.Json;

namespace MLLrSched.Bench;

/// <summary>
/// Runs one measurement in a fresh process — this benchmark's own executable (child modes) or torch_train.py — with
/// the allocator environment of the run, and reads the JSON object it prints last.
/// </summary>
internal static class ChildProcess
{
    public static string TorchVersion { get; private set; } = "?";

    /// <summary>The environment variables a run mode sets.</summary>
    public static readonly string[] ControlledVariables = { "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "OMP_WAIT_POLICY" };

    /// <summary>
    /// Prefixes of the variables removed from every child's inherited environment before the mode's are set: the
    /// allocator's and the math libraries' tuning knobs (glibc malloc, OpenMP, libgomp, OpenBLAS, MKL, ATen's kernel
    /// dispatch). Each library then runs as it comes, with only the mode's settings; e.g. OPENBLAS_L2_SIZE=512 or
    /// OPENBLAS_CORETYPE, set in some shells for reproducible golden data, make OpenBLAS's matrix products several times
    /// slower and would slow the OpenBLAS-based side (Debian's libtorch and PyTorch) but not TorchSharp's MKL.
    /// </summary>
    public static readonly string[] ClearedPrefixes = { "MALLOC_", "OMP_", "GOMP_", "KMP_", "OPENBLAS_", "GOTO", "MKL_", "ATEN_CPU_CAPABILITY" };

    private static bool Cleared(string name) => ClearedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));

    /// <summary>The cleared variables this process inherited (they do not reach the children), as "NAME=value".</summary>
    public static IReadOnlyList<string> InheritedClearedVariables() =>
        System.Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(Cleared).Order()
            .Select(k => $"{k}={System.Environment.GetEnvironmentVariable(k)}").ToArray();

    /// <summary>Sets <paramref name="environment"/> (a child's, inherited) to the run mode's: the cleared variables
    /// removed, then the mode's set.</summary>
    public static void Apply(IDictionary<string, string?> environment, IReadOnlyDictionary<string, string> mode)
    {
        foreach (var name in environment.Keys.Where(Cleared).ToArray()) environment.Remove(name);
        foreach (var (k, v) in mode) environment[k] = v;
    }

    /// <summary>
    /// The environment of every process in a run (see <see cref="Apply"/>). "default": none of <see cref="ClearedPrefixes"/>. "tuned":
    /// glibc's mmap threshold fixed at its 32 MiB maximum and no heap trimming, so a step's large activation buffers
    /// are reused instead of being mapped, faulted in and unmapped every step; and OpenMP workers that sleep instead
    /// of spinning between parallel regions, so they do not take a core from OpenBLAS's own worker during a GEMM.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Environment(string mode) => mode switch
    {
        "tuned" => new Dictionary<string, string>
        {
            ["MALLOC_MMAP_THRESHOLD_"] = "33554432",
            ["MALLOC_TRIM_THRESHOLD_"] = "4294967296",
            ["OMP_WAIT_POLICY"] = "PASSIVE",
        },
        _ => new Dictionary<string, string>(),
    };

    /// <summary>One line describing a mode's environment.</summary>
    public static string Describe(string mode) => mode == "tuned"
        ? "MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 OMP_WAIT_POLICY=PASSIVE in every process"
        : "no MALLOC_*/OMP_WAIT_POLICY settings";

    /// <summary>This benchmark's executable (the dotnet host when run as `dotnet X.dll`).</summary>
    public static string SelfPath => System.Environment.ProcessPath!;

    /// <summary>The arguments that start this benchmark again (the dll when run through the dotnet host).</summary>
    public static IEnumerable<string> SelfArgs() => Path.GetFileNameWithoutExtension(SelfPath) == "dotnet"
        ? new[] { typeof(ChildProcess).Assembly.Location }
        : Array.Empty<string>();

    /// <summary>Runs torch_train.py with <paramref name="args"/> and <paramref name="threads"/> threads under
    /// <paramref name="python"/>; returns its JSON result, or null (said on the console) when it failed.</summary>
    public static JsonElement? PyTorch(string python, int threads, string mode, IEnumerable<string> args)
    {
        var all = new List<string> { Path.Combine(AppContext.BaseDirectory, "torch_train.py") };
        all.AddRange(args);
        all.Add("--threads");
        all.Add(threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var r = Run(python, all, mode, "PyTorch");
        if (r is { } root)
        {
            TorchVersion = root.GetProperty("torch_version").GetString() ?? "?";
            var ran = root.GetProperty("threads").GetInt32();
            if (ran != threads) Console.WriteLine($"warning: PyTorch ran with {ran} threads, not {threads}");
        }
        return r;
    }

    /// <summary>The torch version <paramref name="python"/> imports (e.g. "2.6.0"), or "?".</summary>
    public static string PythonTorchVersion(string python)
    {
        try
        {
            var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-c", "import torch; print(torch.__version__)" }) psi.ArgumentList.Add(a);
            using var proc = Process.Start(psi)!;
            var output = proc.StandardOutput.ReadToEnd().Trim();
            proc.WaitForExit();
            if (proc.ExitCode == 0 && output.Length > 0) TorchVersion = output.Split('+')[0];
        }
        catch (System.ComponentModel.Win32Exception) { }
        return TorchVersion;
    }

    private static JsonElement? Run(string file, IEnumerable<string> args, string mode, string who)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Apply(psi.Environment, Environment(mode));
        try
        {
            using var proc = Process.Start(psi)!;
            var err = proc.StandardError.ReadToEndAsync();
            var output = proc.StandardOutput.ReadToEnd();
            proc.WaitForExit();
            if (proc.ExitCode != 0)
            {
                Console.WriteLine($"{who} run failed (exit {proc.ExitCode}): {err.Result}{output}");
                return null;
            }
            using var doc = JsonDocument.Parse(output.Trim().Split('\n').Last());
            return doc.RootElement.Clone();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or JsonException or InvalidOperationException)
        {
            Console.WriteLine($"{who} run failed: {e.Message}");
            return null;
        }
    }
}
