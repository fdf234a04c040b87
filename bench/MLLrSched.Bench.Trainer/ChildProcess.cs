using System.Diagnostics;
using System.Text.Json;

namespace MLLrSched.Bench.Trainer;

/// <summary>
/// Runs one measurement in a fresh process — this benchmark's own executable (child modes) or torch_train.py — with
/// the allocator environment of the run, and reads the JSON object it prints last.
/// </summary>
internal static class ChildProcess
{
    public static string TorchVersion { get; private set; } = "?";

    /// <summary>glibc's malloc settings for a run: "tuned" fixes the mmap threshold at its 32 MiB maximum and never trims
    /// the heap, so a training step's large activation buffers are reused instead of being mapped, faulted in and
    /// unmapped every step; "default" leaves glibc's dynamic thresholds.</summary>
    public static IReadOnlyDictionary<string, string> MallocEnvironment(string mode) => mode switch
    {
        "tuned" => new Dictionary<string, string> { ["MALLOC_MMAP_THRESHOLD_"] = "33554432", ["MALLOC_TRIM_THRESHOLD_"] = "4294967296" },
        _ => new Dictionary<string, string>(),
    };

    public static JsonElement? Ours(BenchOptions o, string malloc, IEnumerable<string> args)
    {
        var self = Environment.ProcessPath!;
        var all = new List<string>();
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") all.Add(typeof(ChildProcess).Assembly.Location);
        all.AddRange(args);
        return Run(self, all, malloc, "MLLrSched");
    }

    public static JsonElement? PyTorch(BenchOptions o, string malloc, IEnumerable<string> args)
    {
        var all = new List<string> { Path.Combine(AppContext.BaseDirectory, "torch_train.py") };
        all.AddRange(args);
        all.Add("--threads");
        all.Add(o.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var r = Run(o.Python, all, malloc, "PyTorch");
        if (r is { } root)
        {
            TorchVersion = root.GetProperty("torch_version").GetString() ?? "?";
            var threads = root.GetProperty("threads").GetInt32();
            if (threads != o.Threads) Console.WriteLine($"warning: PyTorch ran with {threads} threads, not {o.Threads}");
        }
        return r;
    }

    private static JsonElement? Run(string file, IEnumerable<string> args, string malloc, string who)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var name in new[] { "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_" }) psi.Environment.Remove(name);
        foreach (var (k, v) in MallocEnvironment(malloc)) psi.Environment[k] = v;
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
