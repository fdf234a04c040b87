using System.Diagnostics;

namespace MLLrSched.Torch.Tests.Serialization;

/// <summary>
/// Runs <c>/usr/bin/python3 tools/golden/serialization.py verify FILE EXPECTATIONS ...</c> once for a
/// batch of files (importing torch costs seconds, so one process checks them all) and keeps its verdict
/// per file.
/// </summary>
internal sealed class PythonVerify
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Why Python cannot run the check here, or null when it can.</summary>
    public string? Unavailable { get; private init; }

    public int ExitCode { get; private init; }
    public string Output { get; private init; } = "";

    /// <summary>tools/golden/serialization.py, copied to golden/scripts in the test output.</summary>
    public static string Script => Path.Combine(MLLrSched.Tests.Shared.LivePyTorch.ScriptFolder, "serialization.py");

    public static PythonVerify Run(IEnumerable<(string File, string Expectations)> pairs)
    {
        if (!File.Exists(Python)) return new PythonVerify { Unavailable = $"{Python} is not installed" };
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Script);
        psi.ArgumentList.Add("verify");
        foreach (var (file, expectations) in pairs)
        {
            psi.ArgumentList.Add(file);
            psi.ArgumentList.Add(expectations);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("serialization.py verify did not finish in 120 s");
        }
        var output = stdout.Result + stderr.Result;
        if (output.Contains("No module named 'torch'"))
            return new PythonVerify { Unavailable = $"{Python} has no torch module" };
        return new PythonVerify { ExitCode = p.ExitCode, Output = output };
    }

    /// <summary>Python's line about <paramref name="file"/> ("OK ...", "MISMATCH ...", "ERROR ...").</summary>
    public string LineFor(string file) =>
        Output.Split('\n').FirstOrDefault(l => l.Contains(file, StringComparison.Ordinal))?.Trim()
        ?? $"(no line for {file} in:\n{Output})";
}
