using System.Diagnostics;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>Runs the tests' child process (ChildProcess/Program.cs), built next to the tests.</summary>
internal static class Child
{
    public static (int ExitCode, string Output) Run(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "MLLrSched.MLExtensions.ChildProcess.dll");
        Assert.IsTrue(File.Exists(dll), $"the child process is built next to the tests: {dll}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(180_000)) { p.Kill(true); Assert.Fail("the child process ran longer than 3 minutes"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
