using System.Diagnostics;
using System.Globalization;

namespace MLLrSched.Bench;

/// <summary>
/// Runs several training processes side by side but never at the same time: each waits on stdin, and on "go" trains
/// one block of steps, prints "block SECONDS" and waits again. The processes take turns block by block (the order
/// rotates every block) with a short pause between turns, so a slow spell on a shared machine hits every contender's
/// neighbouring blocks alike, and the ratio of two processes' times in the same block cycle is a paired measurement.
/// A contender may append its resident memory to the block line ("block SECONDS RSS_KIB"); <see cref="Rss"/> holds it.
/// </summary>
internal sealed class PairedRun : IDisposable
{
    private readonly List<Process> _procs = new();
    private readonly List<string> _names = new();

    /// <summary>Starts a contender (it must print "ready" first).</summary>
    public void Add(string name, string file, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        ChildProcess.Apply(psi.Environment, environment);
        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line && !line.Contains("UserWarning", StringComparison.Ordinal)) Console.Error.WriteLine($"[{name}] {line}"); };
        p.BeginErrorReadLine();
        _procs.Add(p);
        _names.Add(name);
    }

    /// <summary>The contenders' names, in the order they were added.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>After <see cref="Run"/>: resident memory in KiB at the end of each block, per contender (NaN where a
    /// contender did not report it).</summary>
    public double[][] Rss { get; private set; } = [];

    /// <summary>Runs <paramref name="blocks"/> block cycles; returns seconds[contender][block].</summary>
    public double[][] Run(int blocks, TimeSpan gap)
    {
        for (var i = 0; i < _procs.Count; i++) Expect(i, "ready");
        var times = _procs.Select(_ => new double[blocks]).ToArray();
        Rss = _procs.Select(_ => Enumerable.Repeat(double.NaN, blocks).ToArray()).ToArray();
        for (var b = 0; b < blocks; b++)
            for (var k = 0; k < _procs.Count; k++)
            {
                var i = (b + k) % _procs.Count;
                Thread.Sleep(gap);      // lets the previous contender's spinning OpenMP/OpenBLAS workers go idle
                _procs[i].StandardInput.WriteLine("go");
                _procs[i].StandardInput.Flush();
                var line = ReadLine(i);
                if (!line.StartsWith("block ", StringComparison.Ordinal))
                    throw new InvalidOperationException($"{_names[i]}: expected 'block SECONDS', got '{line}'");
                var fields = line[6..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                times[i][b] = double.Parse(fields[0], CultureInfo.InvariantCulture);
                if (fields.Length > 1) Rss[i][b] = double.Parse(fields[1], CultureInfo.InvariantCulture);
            }
        foreach (var p in _procs)
        {
            p.StandardInput.Close();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
        }
        return times;
    }

    private void Expect(int i, string what)
    {
        var line = ReadLine(i);
        if (line != what) throw new InvalidOperationException($"{_names[i]}: expected '{what}', got '{line}'");
    }

    private string ReadLine(int i)
    {
        while (true)
        {
            var line = _procs[i].StandardOutput.ReadLine()
                ?? throw new InvalidOperationException($"{_names[i]} exited early (exit code {(_procs[i].WaitForExit(5000) ? _procs[i].ExitCode : -1)}).");
            if (line.Length > 0) return line.Trim();
        }
    }

    public void Dispose()
    {
        foreach (var p in _procs)
        {
            if (!p.HasExited) p.Kill();
            p.Dispose();
        }
    }
}
