using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLLrSched.Specs;
using MLLrSched.Specs.Options;
using MLLrSched.Training;

namespace MLLrSched.MLExtensions;

/// <summary>
/// How the ML.NET options map to MLLrSched's trainer options. Each training field of <see cref="TorchTrainerOptions"/>
/// names one declared trainer option (its JSON key); null leaves that option at its declared default, and a value is
/// checked against its declaration, the error naming the ML.NET field. The table in docs/mlnet.md is
/// <see cref="Markdown"/>'s output (a test keeps them equal), so defaults, ranges and help are written only once, on
/// <see cref="TrainerOptions"/>.
/// </summary>
public static class TorchOptionMapping
{
    /// <summary>ML.NET field → trainer option (JSON path of its declaration).</summary>
    public static readonly IReadOnlyList<(string Field, string Option)> Fields =
    [
        (nameof(TorchTrainerOptions.BatchSize), "batch_size"),
        (nameof(TorchTrainerOptions.NumberOfEpochs), "epochs"),
        (nameof(TorchTrainerOptions.Optimizer), "optimizer"),
        (nameof(TorchTrainerOptions.Scheduler), "scheduler"),
        (nameof(TorchTrainerOptions.ScheduleInterval), "scheduler_interval"),
        (nameof(TorchTrainerOptions.GradientAccumulationSteps), "gradient_accumulation_steps"),
        (nameof(TorchTrainerOptions.ClipGradNorm), "clip_grad_norm.max_norm"),
        (nameof(TorchTrainerOptions.ClipGradValue), "clip_grad_value"),
        (nameof(TorchTrainerOptions.EmaDecay), "ema.decay"),
        (nameof(TorchTrainerOptions.EmaWarmup), "ema.use_warmup"),
        (nameof(TorchTrainerOptions.EarlyStoppingPatience), "early_stopping.patience"),
        (nameof(TorchTrainerOptions.EarlyStoppingMonitor), "early_stopping.monitor"),
        (nameof(TorchTrainerOptions.Device), "device"),
        (nameof(TorchTrainerOptions.FallbackToCpu), "fallback_to_cpu"),
        (nameof(TorchTrainerOptions.Seed), "seed"),
        (nameof(TorchTrainerOptions.Threads), "threads"),
        (nameof(TorchTrainerOptions.LogEveryNSteps), "log_every_n_steps"),
    ];

    /// <summary>
    /// The trainer options for <paramref name="o"/>, validated. Errors are <see cref="ArgumentOutOfRangeException"/>s
    /// whose parameter is the ML.NET field (e.g. <c>BatchSize</c>), as ML.NET reports its own options.
    /// </summary>
    public static TrainerOptions ToTrainerOptions(TorchTrainerOptions o, string trainer)
    {
        JsonElement? Spec(string? text, string field)
        {
            if (text == null) return null;
            try
            {
                using var doc = JsonDocument.Parse(text);
                return doc.RootElement.Clone();
            }
            catch (JsonException e) { throw new ArgumentOutOfRangeException(field, $"{trainer}: {field} is not valid JSON ({e.Message}): {text}"); }
        }
        T Enum<T>(string? text, T fallback, string field) where T : struct, Enum
        {
            if (text == null) return fallback;
            var names = OptionBinder.EnumNames(typeof(T));
            return names.FirstOrDefault(n => n.Json == text) is { Json: not null } hit ? (T)hit.Value
                : throw new ArgumentOutOfRangeException(field, text, $"{trainer}: {field} must be one of {string.Join(", ", names.Select(n => $"\"{n.Json}\""))}, got \"{text}\".");
        }
        var optimizer = Spec(o.Optimizer, nameof(o.Optimizer));
        if (o.LearningRate is { } lr)
        {
            if (!(lr > 0) || double.IsInfinity(lr))
                throw new ArgumentOutOfRangeException(nameof(o.LearningRate), lr, $"{trainer}: LearningRate must be a finite number > 0, got {Show(lr)}.");
            if ((optimizer.HasValue ? JsonNode.Parse(optimizer.Value.GetRawText()) : JsonNode.Parse(TrainerOptions.DefaultOptimizer)) is not JsonObject spec)
                throw new ArgumentOutOfRangeException(nameof(o.Optimizer), $"{trainer}: Optimizer must be a JSON object such as {TrainerOptions.DefaultOptimizer}.");
            spec["lr"] = lr;
            using var doc = JsonDocument.Parse(spec.ToJsonString());
            optimizer = doc.RootElement.Clone();
        }
        if (o.EmaDecay == null && o.EmaWarmup == true)
            throw new ArgumentOutOfRangeException(nameof(o.EmaWarmup), $"{trainer}: EmaWarmup needs EmaDecay (the EMA is off without it).");
        if (o.EarlyStoppingPatience == null && o.EarlyStoppingMonitor != null)
            throw new ArgumentOutOfRangeException(nameof(o.EarlyStoppingMonitor), $"{trainer}: EarlyStoppingMonitor needs EarlyStoppingPatience (early stopping is off without it).");
        Backend.Device? device = null;
        if (o.Device != null)
        {
            try { device = Backend.Device.Parse(o.Device); }
            catch (ArgumentException e) { throw new ArgumentOutOfRangeException(nameof(o.Device), $"{trainer}: invalid Device: {e.Message}"); }
        }

        // Unset fields keep the declared defaults of TrainerOptions (and of its sections).
        var d = new TrainerOptions();
        var options = d with
        {
            BatchSize = o.BatchSize ?? d.BatchSize,
            Epochs = o.NumberOfEpochs ?? d.Epochs,
            Optimizer = optimizer ?? d.Optimizer,
            Scheduler = Spec(o.Scheduler, nameof(o.Scheduler)) ?? d.Scheduler,
            ScheduleInterval = Enum(o.ScheduleInterval, d.ScheduleInterval, nameof(o.ScheduleInterval)),
            GradientAccumulationSteps = o.GradientAccumulationSteps ?? d.GradientAccumulationSteps,
            Clipping = d.Clipping with { MaxNorm = o.ClipGradNorm ?? d.Clipping.MaxNorm, ClipValue = o.ClipGradValue ?? d.Clipping.ClipValue },
            Ema = o.EmaDecay is { } decay ? new EmaOptions { Decay = decay, UseWarmup = o.EmaWarmup ?? new EmaOptions().UseWarmup } : d.Ema,
            EarlyStopping = o.EarlyStoppingPatience is { } patience
                ? new EarlyStoppingOptions { Patience = patience, Monitor = Enum(o.EarlyStoppingMonitor, new EarlyStoppingOptions().Monitor, nameof(o.EarlyStoppingMonitor)) }
                : d.EarlyStopping,
            Device = device ?? d.Device,
            FallbackToCpu = o.FallbackToCpu ?? d.FallbackToCpu,
            Seed = o.Seed ?? d.Seed,
            Threads = o.Threads ?? d.Threads,
            LogEveryNSteps = o.LogEveryNSteps ?? d.LogEveryNSteps,
        };
        try
        {
            options.Validate();
            return options;
        }
        catch (SpecException e)
        {
            var field = e.Message.Contains("ema option", StringComparison.Ordinal) ? nameof(o.EmaDecay) : FieldOf(e.Key) ?? FieldOf(e.Message) ?? "options";
            // A section's own checks name its keys without the section ('decay' for 'ema.decay').
            if (field == "options" && e.Key != null && Fields.Where(f => f.Option.EndsWith("." + e.Key, StringComparison.Ordinal)).ToArray() is [var only])
                field = only.Field;
            throw new ArgumentOutOfRangeException(field, $"{trainer}: invalid {field}: {e.Message}");
        }
    }

    private static string? FieldOf(string? keyOrMessage)
    {
        if (keyOrMessage == null) return null;
        // The longest option path that the key or message names (optimizer and scheduler messages name their spec).
        foreach (var (field, option) in Fields.OrderByDescending(f => f.Option.Length))
            if (keyOrMessage == option || keyOrMessage.StartsWith(option + ".", StringComparison.Ordinal) || keyOrMessage.Contains($"'{option}'", StringComparison.Ordinal))
                return field;
        if (keyOrMessage.StartsWith("clip_grad_norm", StringComparison.Ordinal)) return nameof(TorchTrainerOptions.ClipGradNorm);
        if (keyOrMessage.Contains("optimizer", StringComparison.OrdinalIgnoreCase)) return nameof(TorchTrainerOptions.Optimizer);
        if (keyOrMessage.Contains("schedul", StringComparison.OrdinalIgnoreCase)) return nameof(TorchTrainerOptions.Scheduler);
        return null;
    }

    /// <summary>
    /// The markdown table of the training fields: ML.NET field, the trainer option it sets, what null means (the
    /// declared default), valid values and help — all read from the trainer's declarations.
    /// </summary>
    public static string Markdown()
    {
        var declared = Flatten(OptionBinder.Describe(typeof(TrainerOptions)), new TrainerOptions()).ToDictionary(d => d.Path);
        var sb = new StringBuilder("| field | trainer option | null means | valid | what it does |\n|---|---|---|---|---|\n");
        foreach (var (field, option) in Fields)
        {
            var (_, descriptor, value, inSection) = declared[option];
            var a = descriptor.Attribute!;
            var nullMeans = option switch
            {
                "ema.decay" => "no EMA",
                "early_stopping.patience" => "no early stopping",
                "optimizer" => $"`{TrainerOptions.DefaultOptimizer}`",
                "scheduler" => "constant lr",
                _ => inSection ? $"`{Default(value, descriptor)}`" : Default(value, descriptor) is var d && d == "off" ? "off" : $"`{d}`",
            };
            sb.Append(CultureInfo.InvariantCulture, $"| `{field}` | `{option}` | {nullMeans} | {Valid(descriptor)} | {a.Help} |\n");
        }
        return sb.ToString();
    }

    private static IEnumerable<(string Path, OptionDescriptor Descriptor, object? Value, bool InSection)> Flatten(
        IReadOnlyList<OptionDescriptor> members, object? defaults, bool inSection = false)
    {
        foreach (var m in members)
        {
            var value = defaults == null ? null : m.Property.GetValue(defaults);
            if (m.IsGroup)
            {
                foreach (var x in Flatten(m.Children!, value, inSection)) yield return x;
                continue;
            }
            if (m.IsSection)
            {
                foreach (var x in Flatten(m.Children!, value ?? Activator.CreateInstance(m.ValueType), true)) yield return x;
                continue;
            }
            yield return (m.JsonPath, m, value, inSection);
        }
    }

    private static string Default(object? value, OptionDescriptor m) => value switch
    {
        null => m.ValueType == typeof(JsonElement) ? "none" : "off",
        Enum e => "\"" + OptionBinder.JsonName(e) + "\"",
        string s => "\"" + s + "\"",
        bool b => b ? "true" : "false",
        double d => Show(d),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Valid(OptionDescriptor m)
    {
        var a = m.Attribute!;
        var t = m.ValueType;
        if (t.IsEnum) return string.Join(", ", OptionBinder.EnumNames(t).Select(n => $"`{n.Json}`"));
        if (a.OneOf != null) return string.Join(", ", a.OneOf.Select(x => $"`{x}`"));
        if (t == typeof(bool)) return "true, false";
        if (t == typeof(Backend.Device)) return "`cpu`, `cuda`, `cuda:N`";
        if (t == typeof(JsonElement)) return "JSON spec";
        var parts = new List<string>();
        if (!double.IsNaN(a.Min)) parts.Add($"{(a.MinExclusive ? ">" : "≥")} {Show(a.Min)}");
        if (!double.IsNaN(a.Max)) parts.Add($"{(a.MaxExclusive ? "<" : "≤")} {Show(a.Max)}");
        var kind = t == typeof(int) || t == typeof(long) ? "integer" : "number";
        return parts.Count == 0 ? kind : $"{kind} {string.Join(", ", parts)}";
    }

    private static string Show(double d) => d.ToString("R", CultureInfo.InvariantCulture);
}
