using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLLrSched.Schedules;

/// <summary>
/// Everything a <see cref="Scheduler"/> needs to resume exactly: the time and the state of each stateful
/// schedule. Plain data; <see cref="ToJson"/>/<see cref="FromJson"/> are what checkpoints store.
/// </summary>
public sealed class SchedulerState
{
    /// <summary>The schedule time t of the values in the groups.</summary>
    public double T { get; set; }

    /// <summary>How many times the scheduler was stepped.</summary>
    public long StepCount { get; set; }

    /// <summary>Optimizer steps counted within the current epoch (fractional-epoch stepping).</summary>
    public long OptimizerSteps { get; set; }

    /// <summary>One entry per binding, in order: the schedule's <see cref="IStatefulSchedule.SaveState"/> (null when
    /// it has no state).</summary>
    public List<JsonObject?> Schedules { get; set; } = new();

    /// <summary>The state as a JSON object.</summary>
    public JsonObject ToJsonObject()
    {
        var arr = new JsonArray();
        foreach (var s in Schedules) arr.Add(s?.DeepClone());
        return new JsonObject
        {
            ["t"] = StateJson.Number(T),
            ["step_count"] = StepCount,
            ["optimizer_steps"] = OptimizerSteps,
            ["schedules"] = arr,
        };
    }

    /// <summary>The state as JSON text.</summary>
    public string ToJson() => ToJsonObject().ToJsonString(new JsonSerializerOptions { WriteIndented = false });

    /// <summary>Reads state written by <see cref="ToJson"/>.</summary>
    /// <exception cref="FormatException">The text is not a scheduler state.</exception>
    public static SchedulerState FromJson(string json) =>
        FromJsonObject(JsonNode.Parse(json) as JsonObject ?? throw new FormatException("Scheduler state must be a JSON object."));

    /// <summary>Reads state from a JSON object written by <see cref="ToJsonObject"/>.</summary>
    public static SchedulerState FromJsonObject(JsonObject o)
    {
        try
        {
            var s = new SchedulerState
            {
                T = StateJson.ReadNumber(o["t"]),
                StepCount = o["step_count"]!.GetValue<long>(),
                OptimizerSteps = o["optimizer_steps"]?.GetValue<long>() ?? 0,
            };
            foreach (var n in (JsonArray)o["schedules"]!) s.Schedules.Add(n?.DeepClone() as JsonObject);
            return s;
        }
        catch (Exception e) when (e is not FormatException)
        {
            throw new FormatException($"Not a scheduler state (expected t, step_count, schedules): {e.Message}", e);
        }
    }
}

/// <summary>JSON helpers for schedule state: doubles round-trip exactly, infinities as Python's spellings.</summary>
public static class StateJson
{
    /// <summary>A number node; ±infinity and NaN become the strings "inf", "-inf", "nan".</summary>
    public static JsonNode Number(double v) => double.IsFinite(v)
        ? JsonValue.Create(v)
        : JsonValue.Create(double.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf");

    /// <summary>Reads a node written by <see cref="Number"/>.</summary>
    public static double ReadNumber(JsonNode? n)
    {
        if (n is null) throw new FormatException("missing number");
        if (n.GetValueKind() == JsonValueKind.String)
            return n.GetValue<string>() switch
            {
                "inf" => double.PositiveInfinity,
                "-inf" => double.NegativeInfinity,
                "nan" => double.NaN,
                var s => throw new FormatException($"'{s}' is not a number"),
            };
        return n.GetValue<double>();
    }

    /// <summary>An array of numbers.</summary>
    public static JsonArray Numbers(IEnumerable<double> values)
    {
        var a = new JsonArray();
        foreach (var v in values) a.Add(Number(v));
        return a;
    }

    /// <summary>Reads an array written by <see cref="Numbers"/>, checking its length.</summary>
    public static double[] ReadNumbers(JsonNode? n, int expectedLength, string what)
    {
        var a = n as JsonArray ?? throw new FormatException($"{what}: expected an array");
        if (a.Count != expectedLength)
            throw new FormatException($"{what}: expected {expectedLength} values (one per parameter group), got {a.Count}");
        return a.Select(ReadNumber).ToArray();
    }

    /// <summary>The object's property, or a clear error naming the schedule.</summary>
    public static JsonNode Get(JsonObject? o, string key, string schedule) =>
        o?[key] ?? throw new FormatException($"{schedule} state has no '{key}'; was it saved by a different schedule?");
}
