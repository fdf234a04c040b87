using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.MethodLevel)]

namespace MLLrSched.Cli.Tests;

/// <summary>What a CLI process did.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr, bool Stopped)
{
    public string Output => Stdout + Stderr;
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the built <c>mllrsched</c> as a real process.</summary>
public static class Cli
{
    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MLLrSched.sln"))) return d.FullName;
        throw new InvalidOperationException("MLLrSched.sln not found above the test assembly.");
    }

    /// <summary>The engine these tests (and the CLI built with them) run on.</summary>
    public static string Engine { get; } = typeof(Cli).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "MLLrSchedTestEngine").Value!;

    /// <summary>The CLI under test: MLLRSCHED_CLI_DLL, else the solution's Release build.</summary>
    public static string Dll()
    {
        var dll = Environment.GetEnvironmentVariable("MLLRSCHED_CLI_DLL") is { Length: > 0 } given ? given
            : Path.Combine(RepoRoot(), "src", "Cli", "bin", "Release", "net10.0", "mllrsched.dll");
        if (!File.Exists(dll)) Assert.Fail($"{dll} is missing: build the solution in Release (tools/build.sh does).");
        return dll;
    }

    /// <summary>Runs <c>mllrsched ARGS</c> in <paramref name="workDir"/>. With <paramref name="stopWhen"/>, sends
    /// <paramref name="signal"/> (KILL, TERM, INT) once a stdout line matches, and stops reading.</summary>
    public static CliResult Run(string workDir, IEnumerable<string> args, Func<string, bool>? stopWhen = null, string signal = "KILL", int timeoutMs = 120_000)
    {
        // Through env --default-signal=INT: a shell starts background jobs with SIGINT ignored, the test host inherits
        // that when CI runs it so, and .NET keeps an inherited SIG_IGN (as a background job should), so a SIGINT sent
        // below would be lost. The CLI is meant to be tested as a terminal runs it, with SIGINT at its default.
        var psi = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir };
        psi.ArgumentList.Add("--default-signal=INT");
        psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(Dll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginErrorReadLine();
        var stopped = false;
        var reader = Task.Run(() =>
        {
            string? line;
            while ((line = p.StandardOutput.ReadLine()) != null)
            {
                lock (stdout) stdout.AppendLine(line);
                if (!stopped && stopWhen != null && stopWhen(line))
                {
                    stopped = true;
                    Signal(p, signal);
                    if (signal == "KILL") break;
                }
            }
        });
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"mllrsched {string.Join(' ', args)} did not finish within {timeoutMs / 1000} s:\n{stdout}\n{stderr}");
        }
        p.WaitForExit();
        reader.Wait(10_000);
        string o, e2;
        lock (stdout) o = stdout.ToString();
        lock (stderr) e2 = stderr.ToString();
        var result = new CliResult(p.ExitCode, o, e2, stopped);
        AssertNoStackTrace(result);
        return result;
    }

    public static CliResult Run(string workDir, params string[] args) => Run(workDir, (IEnumerable<string>)args);

    public static void Signal(Process p, string signal)
    {
        if (signal == "KILL") { p.Kill(); return; }
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, p.Id.ToString(CultureInfo.InvariantCulture)]))!;
        kill.WaitForExit();
    }

    /// <summary>Every failure is a message, never a .NET stack trace.</summary>
    public static void AssertNoStackTrace(CliResult r)
    {
        foreach (var line in (r.Stdout + r.Stderr).Split('\n'))
            if (line.TrimStart().StartsWith("at ", StringComparison.Ordinal) && line.Contains('(') || line.Contains("Unhandled exception", StringComparison.Ordinal))
                Assert.Fail("the CLI printed a stack trace:\n" + r);
    }

    /// <summary>The optimizer step of a progress line "step N/M ...", or null.</summary>
    public static long? StepOf(string line) =>
        line.StartsWith("step ", StringComparison.Ordinal) && long.TryParse(line.Split(' ')[1].Split('/')[0], CultureInfo.InvariantCulture, out var s) ? s : null;
}

/// <summary>A temporary folder with small data sets and configs.</summary>
public sealed class Workspace : IDisposable
{
    public Workspace()
    {
        Dir = Path.Combine(Path.GetTempPath(), "mllrsched-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Dir);
    }

    public string Dir { get; }
    public string this[string name] => Path.Combine(Dir, name);

    public string Write(string name, string text)
    {
        var path = this[name];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A separable 4-class problem: 10 features, label from the first four.</summary>
    public string Data(string name, int rows, int seed)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder("f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,label\n");
        for (var r = 0; r < rows; r++)
        {
            var x = Enumerable.Range(0, 10).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            var label = (x[0] + x[1] > 0 ? 1 : 0) + (x[2] - x[3] > 0.3 ? 2 : 0);
            sb.Append(string.Join(",", x.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).Append(',').Append(label).Append('\n');
        }
        return Write(name, sb.ToString());
    }

    /// <summary>train.csv (rows), test.csv (rows / 3) and config.json from <paramref name="config"/>.</summary>
    public string Standard(string config, int rows = 300)
    {
        Data("train.csv", rows, 1);
        Data("test.csv", Math.Max(30, rows / 3), 2);
        return Write("config.json", config);
    }

    public CliResult Train(params string[] args) => Cli.Run(Dir, ["train", .. args]);

    public void Dispose()
    {
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}

/// <summary>Every file under a folder (hidden ones included) with a hash of its bytes: "unchanged" means equal snapshots.</summary>
public static class Snapshot
{
    public static SortedDictionary<string, string> Of(string dir)
    {
        var s = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(dir)) return s;
        foreach (var d in Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories))
            s[Path.GetRelativePath(dir, d) + "/"] = "dir";
        foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
            s[Path.GetRelativePath(dir, f)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)));
        return s;
    }

    public static void AssertSame(SortedDictionary<string, string> before, string dir, string what)
    {
        var after = Of(dir);
        var changed = before.Keys.Union(after.Keys).Where(k => !before.TryGetValue(k, out var a) || !after.TryGetValue(k, out var b) || a != b).ToList();
        if (changed.Count > 0) Assert.Fail($"{what}: the output folder changed ({string.Join(", ", changed)})");
    }
}

/// <summary>Configs used by several tests.</summary>
public static class Configs
{
    /// <summary>A small run: 300 rows, MLP, AdamW, warmup then cosine (fixed horizon), EMA; ~60 optimizer steps.</summary>
    public const string Small = """
    {
      "seed": 3, "threads": 1,
      "data": {"type": "csv", "train": "train.csv", "test": "test.csv", "validation": "split", "validation_fraction": 0.1},
      "model": {"type": "mlp", "hidden_sizes": [16], "dropout": 0.1},
      "optimizer": {"type": "AdamW", "lr": 0.01},
      "scheduler": {"type": "linear", "num_warmup_steps": 10, "num_training_steps": 200},
      "epochs": 4, "batch_size": 16,
      "ema": {"decay": 0.9},
      "log_every_n_steps": 1, "checkpoint_every_n_steps": 5
    }
    """;

    /// <summary><see cref="Small"/> with one key's value replaced (key at top level or "section.key").</summary>
    public static string With(string config, string key, string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(config)!.AsObject();
        var parts = key.Split('.');
        var target = node;
        foreach (var p in parts[..^1]) target = target[p]!.AsObject();
        target[parts[^1]] = json == "<remove>" ? null : System.Text.Json.Nodes.JsonNode.Parse(json);
        if (json == "<remove>") target.Remove(parts[^1]);
        return node.ToJsonString();
    }
}
