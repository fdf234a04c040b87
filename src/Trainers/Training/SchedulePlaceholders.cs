using System.Text;
using System.Text.Json;
using MLLrSched.Schedules;
using MLLrSched.Specs;

namespace MLLrSched.Training;

/// <summary>The run's length, which schedule specs may refer to instead of hard-coding it.</summary>
/// <param name="TotalSteps">Optimizer steps of the whole run (epochs × steps per epoch, or max_steps).</param>
/// <param name="StepsPerEpoch">Optimizer steps per epoch (accumulation included).</param>
/// <param name="Epochs">Epochs of the run.</param>
public readonly record struct RunLength(long TotalSteps, long StepsPerEpoch, long Epochs);

/// <summary>
/// The placeholders a schedule spec may use for the run's length — <c>"$total_steps"</c>, <c>"$steps_per_epoch"</c>,
/// <c>"$epochs"</c> — e.g. OneCycleLR's <c>total_steps</c> or Hugging Face's <c>num_training_steps</c>. They are
/// resolved value by value in the JSON tree (a string value that is exactly a placeholder becomes that number), never by
/// rewriting text; any other <c>"$..."</c> value is an error naming its key.
/// </summary>
public static class SchedulePlaceholders
{
    /// <summary>The placeholder names.</summary>
    public static readonly IReadOnlyList<string> Names = ["$total_steps", "$steps_per_epoch", "$epochs"];

    // Stand-in run length for checking a spec before the data is known: large enough that a length-dependent check
    // (e.g. warmup ≤ total steps) cannot fail because of the stand-in; the real values are checked when the run starts.
    private static readonly RunLength Provisional = new(1L << 40, 1L << 20, 1L << 20);

    /// <summary>Checks a spec's type, keys and values before the run's length is known.</summary>
    /// <exception cref="SpecException">The first problem, naming the key.</exception>
    public static ScheduleSpec Validate(JsonElement spec) => ScheduleSpecs.Parse(Resolve(spec, Provisional));

    /// <summary>The spec with every placeholder replaced by the run's number.</summary>
    /// <exception cref="SpecException">An unknown <c>"$..."</c> value (named, with the valid placeholders).</exception>
    public static JsonElement Resolve(JsonElement spec, RunLength length)
    {
        if (!Mentions(spec)) return spec;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) Write(spec, w, length, "scheduler");
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private static bool Mentions(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!.StartsWith('$'),
        JsonValueKind.Object => e.EnumerateObject().Any(p => Mentions(p.Value)),
        JsonValueKind.Array => e.EnumerateArray().Any(Mentions),
        _ => false,
    };

    private static void Write(JsonElement e, Utf8JsonWriter w, RunLength length, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                w.WriteStartObject();
                foreach (var p in e.EnumerateObject())
                {
                    w.WritePropertyName(p.Name);
                    Write(p.Value, w, length, $"{path}.{p.Name}");
                }
                w.WriteEndObject();
                break;
            case JsonValueKind.Array:
                w.WriteStartArray();
                var i = 0;
                foreach (var x in e.EnumerateArray()) Write(x, w, length, $"{path}[{i++}]");
                w.WriteEndArray();
                break;
            case JsonValueKind.String when e.GetString()!.StartsWith('$'):
                var name = e.GetString()!;
                var value = name switch
                {
                    "$total_steps" => length.TotalSteps,
                    "$steps_per_epoch" => length.StepsPerEpoch,
                    "$epochs" => length.Epochs,
                    _ => throw new SpecException(
                        $"Unknown placeholder \"{name}\" at '{path}'. Valid: {string.Join(", ", Names.Select(n => $"\"{n}\""))}.", path),
                };
                if (value < 1)
                    throw new SpecException($"'{path}' is \"{name}\", which is {value} for this run; it must be at least 1 (check epochs, max_steps and the data size).", path);
                w.WriteNumberValue(value);
                break;
            default:
                e.WriteTo(w);
                break;
        }
    }
}
