using System.Text;
using System.Text.Json;

namespace MLLrSched.Recipes;

/// <summary>A setting that differs between the config a checkpoint was written with and the config of the resume.</summary>
/// <param name="Key">The dotted key, e.g. <c>optimizer.lr</c>.</param>
/// <param name="Recorded">Its value in the checkpoint's config (JSON text; null when absent).</param>
/// <param name="Now">Its value now (null when absent).</param>
/// <param name="Allowed">True when the resume applies it; false when it refuses.</param>
/// <param name="Reason">Why, in a few words.</param>
public sealed record ResumeChange(string Key, string? Recorded, string? Now, bool Allowed, string Reason)
{
    /// <summary><c>key: before → after (reason)</c>.</summary>
    public override string ToString() => $"{Key}: {Recorded ?? "(not set)"} → {Now ?? "(not set)"} ({Reason})";
}

/// <summary>
/// Which settings a resumed run may change. A checkpoint records the config it was written with; on resume the two are
/// compared key by key (<see cref="RunSettings.Flatten"/>): keys that only say how long to train, how often to log,
/// checkpoint or evaluate, and where to run are applied with a note; every other key defines the run (model, data,
/// optimizer, schedule, seed, batch geometry, averaging and stopping state) and a change refuses the resume with the
/// list of differences. <see cref="Rules"/> is the table docs/checkpoints.md shows.
/// </summary>
public static class ResumeRules
{
    /// <summary>The rules, first match wins: a key pattern (<c>prefix.*</c> or exact), whether a change is applied, and why.</summary>
    public static readonly IReadOnlyList<(string Pattern, bool Allowed, string Reason)> Rules =
    [
        ("epochs", true, "extends or shortens the run; refused when the schedule's horizon comes from $total_steps or $epochs"),
        ("max_steps", true, "extends or shortens the run; refused when the schedule's horizon comes from $total_steps"),
        ("log_every_n_steps", true, "logging cadence: rows after the checkpoint follow the new value"),
        ("checkpoint_every_n_steps", true, "checkpoint cadence"),
        ("evaluate_every_epoch", true, "evaluation cadence"),
        ("eval_batch_size", true, "evaluation batch size (metrics equal up to float rounding)"),
        ("device", true, "where it runs; bit-identical continuation needs the same device and thread count"),
        ("fallback_to_cpu", true, "where it runs"),
        ("threads", true, "where it runs; bit-identical continuation needs the same thread count"),
        ("nonfinite", true, "what a NaN/inf does from now on"),
        ("engine", false, "the checkpoint's random state belongs to its engine"),
        ("data.*", false, "the data and its shuffling order define the run"),
        ("model.*", false, "the checkpoint's weights belong to that model"),
        ("task.*", false, "the loss being minimised"),
        ("optimizer.*", false, "the optimizer's state and hyperparameters (lr included) come from the checkpoint; a new value would be ignored"),
        ("scheduler.*", false, "the schedule's position is in the checkpoint; a new schedule would jump mid-run"),
        ("scheduler_interval", false, "the schedule's position is in the checkpoint"),
        ("scheduler_monitor", false, "the schedule's position is in the checkpoint"),
        ("batch_size", false, "batch geometry: the checkpoint's data position counts these batches"),
        ("gradient_accumulation_steps", false, "batch geometry: the checkpoint's data position counts these batches"),
        ("shuffle", false, "batch geometry: the data order"),
        ("drop_last", false, "batch geometry: the batches per epoch"),
        ("seed", false, "seeds the data order and dropout"),
        ("clip_grad_norm.*", false, "changes the updates"),
        ("clip_grad_value", false, "changes the updates"),
        ("adaptive_clip.*", false, "changes the updates"),
        ("ema.*", false, "the EMA's state is in the checkpoint"),
        ("swa.*", false, "SWA's state is in the checkpoint"),
        ("early_stopping.*", false, "early stopping's state is in the checkpoint"),
        ("*", false, "changes the run"),
    ];

    /// <summary>The rule for <paramref name="key"/>.</summary>
    public static (bool Allowed, string Reason) RuleFor(string key)
    {
        foreach (var (pattern, allowed, reason) in Rules)
        {
            if (pattern == "*") return (allowed, reason);
            if (pattern.EndsWith(".*", StringComparison.Ordinal))
            {
                var stem = pattern[..^2];
                if (key == stem || key.StartsWith(stem + ".", StringComparison.Ordinal) || key.StartsWith(stem + "[", StringComparison.Ordinal)) return (allowed, reason);
            }
            else if (key == pattern) return (allowed, reason);
        }
        return (false, "changes the run");
    }

    /// <summary>Every setting that differs between <paramref name="recorded"/> (the checkpoint's config) and
    /// <paramref name="now"/>, sorted by key, each marked applied or refused.</summary>
    public static IReadOnlyList<ResumeChange> Compare(RunConfig recorded, RunConfig now)
    {
        var a = RunSettings.Flatten(recorded);
        var b = RunSettings.Flatten(now);
        var horizonFromLength = UsesPlaceholder(recorded, "$total_steps") || UsesPlaceholder(now, "$total_steps");
        var horizonFromEpochs = horizonFromLength || UsesPlaceholder(recorded, "$epochs") || UsesPlaceholder(now, "$epochs");
        var changes = new List<ResumeChange>();
        foreach (var key in a.Keys.Union(b.Keys).Order(StringComparer.Ordinal))
        {
            a.TryGetValue(key, out var before);
            b.TryGetValue(key, out var after);
            if (before == after) continue;
            var (allowed, reason) = RuleFor(key);
            if (key == "epochs" && horizonFromEpochs || key == "max_steps" && horizonFromLength)
            {
                allowed = false;
                reason = "the schedule's horizon is computed from the run's length ($total_steps/$epochs), so the lr of the steps already taken would change; " +
                         "give the schedule a fixed horizon to extend a run";
            }
            changes.Add(new ResumeChange(key, before, after, allowed, reason));
        }
        return changes;
    }

    private static bool UsesPlaceholder(RunConfig c, string placeholder) =>
        c.Trainer.Scheduler is { } s && s.GetRawText().Contains($"\"{placeholder}\"", StringComparison.Ordinal);

    /// <summary>The rules as a markdown table (docs/checkpoints.md).</summary>
    public static string Markdown()
    {
        var sb = new StringBuilder("| setting | on resume | why |\n|---|---|---|\n");
        foreach (var group in Rules.GroupBy(r => (r.Allowed, r.Reason)))
        {
            var keys = string.Join(", ", group.Select(r => r.Pattern == "*" ? "anything else" : $"`{r.Pattern}`"));
            sb.Append($"| {keys} | {(group.Key.Allowed ? "applied, with a note" : "**refused**")} | {group.Key.Reason} |\n");
        }
        return sb.ToString();
    }

    /// <summary>Parses the config text a checkpoint recorded (<see cref="RunConfig.SourceText"/>), resolving its relative
    /// paths against the folder it was read from.</summary>
    public static RunConfig ParseRecorded(string text, string? baseDirectory) =>
        RunConfig.Parse(text, baseDirectory, "The config recorded in the checkpoint");

    /// <summary>What a checkpoint records about its config: the text, the folder its relative paths resolve against,
    /// the file it was read from, and a fingerprint (size and 64-bit hash) of every data file, as one JSON string.</summary>
    public static string Record(RunConfig config, string? path) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["text"] = config.SourceText, ["base_directory"] = config.BaseDirectory, ["path"] = path, ["data_files"] = Fingerprints(config),
    });

    /// <summary>A recorded config.</summary>
    /// <param name="Text">The config's text.</param>
    /// <param name="BaseDirectory">The folder its relative paths resolve against.</param>
    /// <param name="Path">The file it was read from.</param>
    /// <param name="DataFiles">Data file → fingerprint, or null when not recorded.</param>
    public sealed record Recorded(string Text, string? BaseDirectory, string? Path, IReadOnlyDictionary<string, string>? DataFiles);

    /// <summary>Reads what <see cref="Record"/> wrote.</summary>
    /// <exception cref="JsonException">Not such a record.</exception>
    public static Recorded ReadRecord(string record)
    {
        using var doc = JsonDocument.Parse(record);
        var r = doc.RootElement;
        string? Str(string key) => r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var files = r.TryGetProperty("data_files", out var f) && f.ValueKind == JsonValueKind.Object
            ? f.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "")
            : null;
        return new Recorded(Str("text") ?? throw new JsonException("no 'text'"), Str("base_directory"), Str("path"), files);
    }

    /// <summary>Each data file of <paramref name="config"/> → "BYTES bytes, xxhash64 HEX".</summary>
    public static Dictionary<string, string> Fingerprints(RunConfig config)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in config.DataFiles())
        {
            try
            {
                using var s = File.OpenRead(file);
                var hash = new System.IO.Hashing.XxHash64();
                hash.Append(s);
                result[file] = $"{s.Length} bytes, xxhash64 {hash.GetCurrentHashAsUInt64():x16}";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { result[file] = "unreadable"; }
        }
        return result;
    }

    /// <summary>Data files whose contents differ from the fingerprints a checkpoint recorded (a changed, added or removed
    /// file), as refused changes.</summary>
    public static IReadOnlyList<ResumeChange> CompareData(IReadOnlyDictionary<string, string>? recorded, RunConfig now)
    {
        if (recorded == null) return [];
        var current = Fingerprints(now);
        return recorded.Keys.Union(current.Keys).Order(StringComparer.Ordinal)
            .Where(f => recorded.GetValueOrDefault(f) != current.GetValueOrDefault(f))
            .Select(f => new ResumeChange($"data file {f}", recorded.GetValueOrDefault(f), current.GetValueOrDefault(f), false,
                "the data's contents changed since the checkpoint was written; the run's data order and samples would differ"))
            .ToList();
    }
}
