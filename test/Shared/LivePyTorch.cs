using System.Diagnostics;
using System.Text.Json;

namespace MLLrSched.Tests.Shared;

/// <summary>
/// The live differential mode: runs a golden script of tools/golden/ with the machine's PyTorch into a temporary
/// folder, so the reference comes from the same CPU (the same OpenBLAS kernels, OPENBLAS_CORETYPE included, since the
/// child inherits the environment) and, when the versions agree, the same libtorch as the engine under test. Such a
/// reference can be compared bit for bit, where the committed golden data (made on one CPU) cannot.
/// </summary>
/// <remarks>When Python or its torch is missing, or its torch is another version than the engine's libtorch, the
/// tests that need it end as inconclusive (counted as skipped) with one line saying why — never silently absent.
/// MLLRSCHED_PYTHON picks another interpreter (default /usr/bin/python3, Debian's, which has torch).</remarks>
internal static class LivePyTorch
{
    private static readonly Dictionary<string, Lazy<(string? Folder, string? Why)>> Runs = new();
    private static readonly Lazy<(string? Version, string? Why)> PythonTorch = new(ProbeTorch);

    /// <summary>The interpreter used.</summary>
    public static string Python => Environment.GetEnvironmentVariable("MLLRSCHED_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    /// <summary>The folder the golden scripts are copied to in the test output.</summary>
    public static string ScriptFolder => Path.Combine(AppContext.BaseDirectory, "golden", "scripts");

    /// <summary>
    /// Runs <paramref name="script"/> (e.g. "optimizers.py") with <c>--out</c> once per process and returns the JSON
    /// file <paramref name="file"/> it wrote; or ends the test as inconclusive, saying why, when the machine's PyTorch
    /// cannot serve as the reference for an engine on libtorch <paramref name="engineLibtorchVersion"/>.
    /// </summary>
    public static JsonElement Reference(string script, string file, string engineLibtorchVersion)
    {
        var (version, why) = PythonTorch.Value;
        if (version == null) throw new AssertInconclusiveException($"live PyTorch check skipped: {why}");
        if (GoldenSet.SeriesOf(version) != GoldenSet.SeriesOf(engineLibtorchVersion))
            throw new AssertInconclusiveException(
                $"live PyTorch check skipped: {Python} has torch {version} but the engine runs libtorch {engineLibtorchVersion}");
        Lazy<(string? Folder, string? Why)> run;
        lock (Runs)
        {
            if (!Runs.TryGetValue(script, out run!)) Runs[script] = run = new Lazy<(string?, string?)>(() => RunScript(script));
        }
        var (folder, failure) = run.Value;
        if (folder == null) Assert.Fail($"live PyTorch reference: {failure}");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder!, file)));
        return doc.RootElement.Clone();
    }

    private static (string?, string?) ProbeTorch()
    {
        if (!File.Exists(Python)) return (null, $"{Python} is not installed (set MLLRSCHED_PYTHON, or install Debian's python3-torch)");
        var (code, output) = Exec(Python, ["-c", "import torch; print(torch.__version__)"], TimeSpan.FromSeconds(60));
        if (code != 0)
            return (null, output.Contains("No module named 'torch'") ? $"{Python} has no torch module" : $"{Python} could not import torch: {Last(output)}");
        return (output.Trim().Split('\n').Last().Trim(), null);
    }

    private static (string?, string?) RunScript(string script)
    {
        var path = Path.Combine(ScriptFolder, script);
        if (!File.Exists(path)) return (null, $"{path} is missing from the test output");
        var folder = Path.Combine(Path.GetTempPath(), $"mllrsched-live-{Environment.ProcessId}-{Path.GetFileNameWithoutExtension(script)}");
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        var (code, output) = Exec(Python, [path, "--out", folder], TimeSpan.FromMinutes(5));
        if (code != 0) return (null, $"{script} exited with {code}: {Last(output)}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(folder, true); } catch (IOException) { } };
        return (folder, null);
    }

    private static (int, string) Exec(string file, string[] args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout.TotalSeconds:0} s");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static string Last(string output) => output.Trim().Split('\n').LastOrDefault()?.Trim() ?? "";
}
