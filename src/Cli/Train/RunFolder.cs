using System.Text.Json;
using MLLrSched.Recipes;

namespace MLLrSched.Cli.Train;

/// <summary>How a run uses its output folder.</summary>
internal enum FolderMode
{
    /// <summary>A new run: the folder must not hold another run's files.</summary>
    New,
    /// <summary>A new run replacing the folder's run, whose files are moved to archive/ first.</summary>
    Overwrite,
    /// <summary>Continuing the run whose checkpoint is in this folder.</summary>
    Resume,
    /// <summary>Continuing, in this (new) folder, a run whose checkpoint is in another folder: its metrics and lr files
    /// are copied over first, so this folder's history is complete.</summary>
    Fork,
}

/// <summary>What summary.json of an earlier session said.</summary>
internal sealed record PreviousSummary(string Status, long? Steps, string? Message, long? Pid = null)
{
    /// <summary>True for endings that wrote final weights (completed, early_stopped, diverged).</summary>
    public bool IsFinal => Status is "completed" or "early_stopped" or "diverged";
}

/// <summary>
/// A run's output folder: one run's record, never mixed with another's or overwritten without being asked. Looking at
/// it (<see cref="Inspect"/>) changes nothing, so a refused run leaves it exactly as it was; <see cref="Claim"/> — called
/// once every check has passed, just before training writes anything — locks it against a second process, removes the
/// temporary files of writes that were killed, and archives what the mode replaces.
/// </summary>
internal sealed class RunFolder : IDisposable
{
    /// <summary>A lock file held (flock) while a process writes into the folder; it stays, empty, afterwards.</summary>
    public const string LockName = ".mllrsched.lock";
    /// <summary>Where replaced files go: archive/TIMESTAMP/.</summary>
    public const string ArchiveName = "archive";
    /// <summary>The run's history: written while it trains.</summary>
    public static readonly string[] HistoryFiles = ["checkpoint.pt", "metrics.csv", "lr.csv", "config.json"];
    /// <summary>What an ending writes: weights, summary, charts.</summary>
    public static readonly string[] EndingFiles =
        ["summary.json", "model.pt", "ema_model.pt", "swa_model.pt", "error.log", "lr.svg", "lr.png", "loss.svg", "loss.png", "accuracy.svg", "accuracy.png"];

    private FileStream? _lock;
    private bool _claimed;

    private RunFolder(string path) => FullPath = path;

    /// <summary>The folder's absolute path.</summary>
    public string FullPath { get; }
    /// <summary>Run files present (history and ending files), by name.</summary>
    public IReadOnlyList<string> Files { get; private set; } = [];
    /// <summary>Temporary files left by writes that were killed.</summary>
    public IReadOnlyList<string> Temporary { get; private set; } = [];
    /// <summary>The previous session's summary, or null.</summary>
    public PreviousSummary? Summary { get; private set; }
    /// <summary>True when another run's files are here.</summary>
    public bool HoldsRun => Files.Count > 0;
    /// <summary>True once <see cref="Claim"/> has succeeded: from then on every ending writes summary.json.</summary>
    public bool Claimed => _claimed;

    /// <summary>Looks at the folder without changing anything.</summary>
    /// <exception cref="CliException">The path is a file, lies under a file, is not a valid path, or another process
    /// is writing into the folder.</exception>
    public static RunFolder Inspect(string path)
    {
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"--out '{path}' is not a valid path: {e.Message}");
        }
        if (File.Exists(full))
            throw new CliException(ExitCodes.InvalidInput, $"--out '{path}' is a file; give a folder (it is created if missing).");
        for (var d = Path.GetDirectoryName(full); !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d))
            if (File.Exists(d))
                throw new CliException(ExitCodes.InvalidInput, $"--out '{path}' cannot be created: '{d}' is a file, not a folder.");
        var folder = new RunFolder(full);
        folder.Refresh();
        if (Directory.Exists(full) && OtherProcess(full) is { } who)
            throw new CliException(ExitCodes.Refused, $"'{full}' is in use by another mllrsched process ({who}); wait for it to finish, or choose another --out.");
        return folder;
    }

    private void Refresh()
    {
        if (!Directory.Exists(FullPath))
        {
            Files = [];
            Temporary = [];
            Summary = null;
            return;
        }
        string[] names;
        try { names = Directory.GetFileSystemEntries(FullPath).Select(Path.GetFileName).ToArray()!; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"--out '{FullPath}' cannot be read: {e.Message}");
        }
        Files = HistoryFiles.Concat(EndingFiles).Where(n => names.Contains(n)).ToArray();
        Temporary = names.Where(n => HistoryFiles.Concat(EndingFiles).Any(t => AtomicFile.IsTemporary(n, t))).ToArray();
        Summary = ReadSummary(Path.Combine(FullPath, "summary.json"));
    }

    private static PreviousSummary? ReadSummary(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var r = doc.RootElement;
            var status = r.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "unknown";
            long? steps = r.TryGetProperty("steps", out var st) && st.TryGetInt64(out var n) ? n : null;
            var message = r.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            long? pid = r.TryGetProperty("pid", out var p) && p.TryGetInt64(out var id) ? id : null;
            return new PreviousSummary(status, steps, message, pid);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return new PreviousSummary("unknown", null, null);
        }
    }

    /// <summary>The run in the folder in a few words, e.g. "an interrupted run (step 154)".</summary>
    public string DescribeRun()
    {
        var what = Summary?.Status switch
        {
            "completed" => "a completed run",
            "early_stopped" => "a run that early stopping ended",
            "diverged" => "a run that diverged",
            "interrupted" => "an interrupted run",
            "failed" => "a run that failed",
            "running" => "a run that was killed while training (its summary still says \"running\")",
            null when Files.Contains("checkpoint.pt") => "an unfinished run",
            _ => "another run",
        };
        var step = Summary?.Steps is { } s ? $", step {s}" : "";
        return $"{what} ({string.Join(", ", Files)}{step})";
    }

    /// <summary>Another process's lock on the folder (its pid, when it wrote it), or null.</summary>
    private static string? OtherProcess(string folder)
    {
        var path = Path.Combine(folder, LockName);
        if (!File.Exists(path)) return null;
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return null;
        }
        catch (IOException)
        {
            // The lock file cannot be read while it is locked; the running process's summary names it.
            return ReadSummary(Path.Combine(folder, "summary.json")) is { Pid: { } pid } ? $"pid {pid}" : "pid unknown";
        }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// Takes the folder for this process: creates it, locks it, checks that no other run appeared since
    /// <see cref="Inspect"/>, removes temporary files of killed writes, and archives what <paramref name="mode"/>
    /// replaces. Returns notes for the console.
    /// </summary>
    /// <param name="mode">How the run uses the folder.</param>
    /// <param name="forkFrom">For <see cref="FolderMode.Fork"/>: the folder of the checkpoint being continued.</param>
    /// <param name="overwrite">For <see cref="FolderMode.Fork"/>: archive a run the folder holds first.</param>
    /// <exception cref="CliException">The folder cannot be created or locked, or changed meanwhile.</exception>
    public IReadOnlyList<string> Claim(FolderMode mode, string? forkFrom, bool overwrite = false)
    {
        var notes = new List<string>();
        var before = Files.ToArray();
        try
        {
            Directory.CreateDirectory(FullPath);
            var lockPath = Path.Combine(FullPath, LockName);
            try
            {
                _lock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (File.Exists(lockPath))
            {
                throw new CliException(ExitCodes.Refused, $"'{FullPath}' is in use by another mllrsched process ({OtherProcess(FullPath) ?? "pid unknown"}); wait for it to finish, or choose another --out.");
            }
            Refresh();
            if ((mode == FolderMode.New || mode == FolderMode.Fork && !overwrite) && HoldsRun)
                throw new CliException(ExitCodes.Refused, $"'{FullPath}' now holds {DescribeRun()}, written while this run was starting; nothing was changed. Choose another --out.");
            if (!Files.SequenceEqual(before))
                throw new CliException(ExitCodes.Refused, $"'{FullPath}' changed while this run was starting (another process?); nothing was changed. Check the folder and start again.");

            foreach (var t in Temporary)
            {
                File.Delete(Path.Combine(FullPath, t));
                notes.Add($"removed {t}, left by a write that was interrupted");
            }
            switch (mode)
            {
                case FolderMode.Overwrite when HoldsRun:
                    notes.Add($"--overwrite: moved the previous run's files to {Archive(Files, Summary?.Status ?? "run")}");
                    break;
                case FolderMode.Resume when Summary is { IsFinal: true } s:
                    var endings = Files.Where(f => EndingFiles.Contains(f)).ToArray();
                    if (endings.Length > 0)
                        notes.Add($"the run had ended ({s.Status}); its final files ({string.Join(", ", endings)}) were moved to {Archive(endings, $"{s.Status}-step{s.Steps}")}");
                    break;
                case FolderMode.Fork:
                    if (HoldsRun) notes.Add($"--overwrite: moved the previous run's files to {Archive(Files, Summary?.Status ?? "run")}");
                    foreach (var name in new[] { "metrics.csv", "lr.csv" })
                    {
                        var source = Path.Combine(forkFrom!, name);
                        if (File.Exists(source)) File.Copy(source, Path.Combine(FullPath, name));
                        else notes.Add($"{forkFrom} has no {name}: this folder's {name} starts at the checkpoint's step");
                    }
                    break;
            }
            Refresh();
            _claimed = true;   // from here on, every ending writes summary.json
            return notes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"cannot write into --out '{FullPath}': {e.Message}");
        }
    }

    /// <summary>Moves <paramref name="names"/> to archive/STAMP-LABEL/ and returns that folder.</summary>
    private string Archive(IEnumerable<string> names, string label)
    {
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        var target = Path.Combine(FullPath, ArchiveName, $"{stamp}-{label}");
        for (var i = 2; Directory.Exists(target); i++) target = Path.Combine(FullPath, ArchiveName, $"{stamp}-{label}-{i}");
        Directory.CreateDirectory(target);
        foreach (var n in names) File.Move(Path.Combine(FullPath, n), Path.Combine(target, n));
        return target;
    }

    /// <summary>A path in the folder.</summary>
    public string PathOf(string name) => Path.Combine(FullPath, name);

    /// <summary>Releases the lock (the empty lock file stays).</summary>
    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }
}
