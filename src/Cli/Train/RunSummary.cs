using System.Text;
using System.Text.Json;
using MLLrSched.Recipes;

namespace MLLrSched.Cli.Train;

/// <summary>
/// summary.json: how the run ended — <c>running</c> while it trains (so a killed run is recognisable), then
/// <c>completed</c>, <c>early_stopped</c>, <c>diverged</c>, <c>interrupted</c> or <c>failed</c> — with the exit code,
/// a message, what to do next, the step reached and the final metrics. Non-finite numbers are written as null
/// (JSON has no NaN), and the file is replaced atomically.
/// </summary>
internal sealed class RunSummary
{
    private readonly Dictionary<string, object?> _values = new();
    private readonly List<string> _warnings = [];

    /// <summary>Sets a value (a string, bool, integer, double, or a list of strings).</summary>
    public object? this[string key]
    {
        set => _values[key] = value;
    }

    /// <summary>Adds a warning (e.g. a chart that could not be drawn).</summary>
    public void Warn(string warning) => _warnings.Add(warning);

    /// <summary>The warnings so far.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>Writes the file.</summary>
    public void Write(string path)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            foreach (var (k, v) in _values) Value(w, k, v);
            if (_warnings.Count > 0) Value(w, "warnings", _warnings);
            w.WriteEndObject();
        }
        AtomicFile.WriteAllText(path, Encoding.UTF8.GetString(buffer.ToArray()) + "\n");
    }

    private static void Value(Utf8JsonWriter w, string key, object? v)
    {
        w.WritePropertyName(key);
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            case double d when double.IsFinite(d): w.WriteNumberValue(d); break;
            case double: w.WriteNullValue(); break;
            case IEnumerable<string> list:
                w.WriteStartArray();
                foreach (var s in list) w.WriteStringValue(s);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(v.ToString()); break;
        }
    }
}
