using System.Globalization;
using System.Text.Json;

namespace MLLrSched.Specs;

/// <summary>
/// Reads the keys of one JSON object spec, PyTorch names and all, remembering which keys were asked for so
/// that <see cref="EnsureNoUnknownKeys"/> can reject typos with the list of valid keys.
/// </summary>
/// <example>
/// <code>
/// var r = new SpecReader(json, "optimizer 'AdamW'");
/// var lr = r.GetDouble("lr", 1e-3, min: 0);
/// var betas = r.GetDoubleArray("betas", new[] { 0.9, 0.999 }, length: 2);
/// r.EnsureNoUnknownKeys();   // {"lr": 1, "betaz": ...} → "Unknown key 'betaz' in optimizer 'AdamW'. Valid keys: ..."
/// </code>
/// </example>
public sealed class SpecReader
{
    private readonly JsonElement _obj;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal) { "type" };

    /// <summary>Wraps a JSON object.</summary>
    /// <param name="obj">The spec object.</param>
    /// <param name="context">How messages name the spec, e.g. <c>schedule 'OneCycleLR'</c>.</param>
    /// <exception cref="SpecException">The element is not a JSON object.</exception>
    public SpecReader(JsonElement obj, string context)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw new SpecException($"The {context} spec must be a JSON object, got {obj.ValueKind}.");
        _obj = obj;
        Context = context;
    }

    /// <summary>How messages name the spec.</summary>
    public string Context { get; }

    /// <summary>The underlying JSON object.</summary>
    public JsonElement Json => _obj;

    /// <summary>Declares keys as valid without reading them (e.g. keys handled elsewhere).</summary>
    public void Allow(params string[] keys)
    {
        foreach (var k in keys) _known.Add(k);
    }

    /// <summary>True when the spec has the key (and it is not JSON null). Marks the key as valid.</summary>
    public bool Has(string key)
    {
        _known.Add(key);
        return _obj.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;
    }

    /// <summary>The raw element for <paramref name="key"/>, or null when absent. Marks the key as valid.</summary>
    public JsonElement? GetElement(string key) => Has(key) ? _obj.GetProperty(key) : null;

    private SpecException Error(string key, string what) =>
        new($"Invalid '{key}' in {Context}: {what}", key);

    /// <summary>A number; <paramref name="min"/>/<paramref name="max"/> bound it (inclusive unless the exclusive flags say otherwise).</summary>
    public double GetDouble(string key, double defaultValue, double? min = null, double? max = null,
        bool minExclusive = false, bool maxExclusive = false)
    {
        var e = GetElement(key);
        var v = e == null ? defaultValue : ReadNumber(key, e.Value);
        CheckRange(key, v, min, max, minExclusive, maxExclusive);
        return v;
    }

    /// <summary>A number, or null when absent or JSON null.</summary>
    public double? GetDoubleOrNull(string key, double? min = null, double? max = null,
        bool minExclusive = false, bool maxExclusive = false)
    {
        var e = GetElement(key);
        if (e == null) return null;
        var v = ReadNumber(key, e.Value);
        CheckRange(key, v, min, max, minExclusive, maxExclusive);
        return v;
    }

    /// <summary>A whole number.</summary>
    public long GetLong(string key, long defaultValue, long? min = null, long? max = null)
    {
        var e = GetElement(key);
        if (e == null) return defaultValue;
        var d = ReadNumber(key, e.Value);
        if (d != Math.Floor(d) || double.IsInfinity(d))
            throw Error(key, $"expected a whole number, got {Format(d)}.");
        var v = (long)d;
        if (min.HasValue && v < min) throw Error(key, $"must be ≥ {min}, got {v}.");
        if (max.HasValue && v > max) throw Error(key, $"must be ≤ {max}, got {v}.");
        return v;
    }

    /// <summary>A whole number, or null when absent.</summary>
    public long? GetLongOrNull(string key, long? min = null, long? max = null) =>
        Has(key) ? GetLong(key, 0, min, max) : null;

    /// <summary>A boolean.</summary>
    public bool GetBool(string key, bool defaultValue)
    {
        var e = GetElement(key);
        if (e == null) return defaultValue;
        return e.Value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(key, $"expected true or false, got {e.Value.GetRawText()}."),
        };
    }

    /// <summary>A string, optionally one of <paramref name="allowed"/> (compared exactly).</summary>
    public string GetString(string key, string defaultValue, IReadOnlyCollection<string>? allowed = null)
    {
        var v = GetStringOrNull(key, allowed);
        return v ?? defaultValue;
    }

    /// <summary>A string or null when absent.</summary>
    public string? GetStringOrNull(string key, IReadOnlyCollection<string>? allowed = null)
    {
        var e = GetElement(key);
        if (e == null) return null;
        if (e.Value.ValueKind != JsonValueKind.String)
            throw Error(key, $"expected a string, got {e.Value.GetRawText()}.");
        var v = e.Value.GetString()!;
        if (allowed != null && !allowed.Contains(v))
            throw Error(key, $"'{v}' is not one of: {string.Join(", ", allowed.Select(a => $"'{a}'"))}.");
        return v;
    }

    /// <summary>An array of numbers; <paramref name="length"/> fixes its length when given.</summary>
    public double[] GetDoubleArray(string key, double[] defaultValue, int? length = null)
    {
        var v = GetDoubleArrayOrNull(key, length);
        return v ?? defaultValue;
    }

    /// <summary>An array of numbers, or null when absent.</summary>
    public double[]? GetDoubleArrayOrNull(string key, int? length = null)
    {
        var e = GetElement(key);
        if (e == null) return null;
        if (e.Value.ValueKind != JsonValueKind.Array)
            throw Error(key, $"expected an array of numbers, got {e.Value.GetRawText()}.");
        var list = e.Value.EnumerateArray().Select(x => ReadNumber(key, x)).ToArray();
        if (length.HasValue && list.Length != length)
            throw Error(key, $"expected {length} numbers, got {list.Length}.");
        return list;
    }

    /// <summary>
    /// A number or an array of numbers (PyTorch's "float or list, one per param group"): returns one value
    /// per group, or null when absent.
    /// </summary>
    public double[]? GetPerGroupOrNull(string key, int groups)
    {
        var e = GetElement(key);
        if (e == null) return null;
        if (e.Value.ValueKind == JsonValueKind.Array)
        {
            var list = GetDoubleArrayOrNull(key)!;
            if (list.Length != groups)
                throw Error(key, $"expected one value per parameter group ({groups}), got {list.Length}.");
            return list;
        }
        var v = ReadNumber(key, e.Value);
        return Enumerable.Repeat(v, groups).ToArray();
    }

    /// <summary>An array of whole numbers (e.g. milestones).</summary>
    public long[] GetLongArray(string key, long[] defaultValue)
    {
        var d = GetDoubleArrayOrNull(key);
        if (d == null) return defaultValue;
        foreach (var x in d)
            if (x != Math.Floor(x)) throw Error(key, $"expected whole numbers, got {Format(x)}.");
        return d.Select(x => (long)x).ToArray();
    }

    /// <summary>A nested object spec, or null when absent.</summary>
    public SpecReader? GetObjectOrNull(string key, string context)
    {
        var e = GetElement(key);
        if (e == null) return null;
        if (e.Value.ValueKind != JsonValueKind.Object)
            throw Error(key, $"expected a JSON object, got {e.Value.GetRawText()}.");
        return new SpecReader(e.Value, context);
    }

    /// <summary>An array of nested object specs (empty when absent).</summary>
    public IReadOnlyList<JsonElement> GetObjectArray(string key)
    {
        var e = GetElement(key);
        if (e == null) return Array.Empty<JsonElement>();
        if (e.Value.ValueKind != JsonValueKind.Array || e.Value.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.Object))
            throw Error(key, $"expected an array of JSON objects, got {e.Value.GetRawText()}.");
        return e.Value.EnumerateArray().ToArray();
    }

    /// <summary>Throws when the spec has keys nobody asked for, listing the valid ones.</summary>
    /// <exception cref="SpecException">Unknown keys are present.</exception>
    public void EnsureNoUnknownKeys()
    {
        var unknown = _obj.EnumerateObject().Select(p => p.Name).Where(n => !_known.Contains(n)).ToList();
        if (unknown.Count == 0) return;
        var valid = string.Join(", ", _known.OrderBy(k => k, StringComparer.Ordinal));
        var hints = unknown.Select(u => SpecNames.Closest(u, _known) is { } c ? $"'{u}' (did you mean '{c}'?)" : $"'{u}'");
        throw new SpecException(
            $"Unknown key{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", hints)} in {Context}. Valid keys: {valid}.",
            unknown[0]);
    }

    private double ReadNumber(string key, JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Number) return e.GetDouble();
        // JSON has no inf/nan literals; accept Python's spellings as strings.
        if (e.ValueKind == JsonValueKind.String)
        {
            var s = e.GetString()!.Trim().ToLowerInvariant();
            if (s is "inf" or "+inf" or "infinity") return double.PositiveInfinity;
            if (s is "-inf" or "-infinity") return double.NegativeInfinity;
            if (s == "nan") return double.NaN;
        }
        throw Error(key, $"expected a number, got {e.GetRawText()}.");
    }

    private void CheckRange(string key, double v, double? min, double? max, bool minEx, bool maxEx)
    {
        if (double.IsNaN(v)) throw Error(key, "must be a number, got NaN.");
        if (min.HasValue && (minEx ? v <= min : v < min))
            throw Error(key, $"must be {(minEx ? ">" : "≥")} {Format(min.Value)}, got {Format(v)}.");
        if (max.HasValue && (maxEx ? v >= max : v > max))
            throw Error(key, $"must be {(maxEx ? "<" : "≤")} {Format(max.Value)}, got {Format(v)}.");
    }

    internal static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
