using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using MLLrSched.Backend;

namespace MLLrSched.Specs.Options;

/// <summary>One declared setting, as found on an options record (see <see cref="OptionAttribute"/>).</summary>
/// <param name="Property">The property holding it.</param>
/// <param name="Attribute">Its declaration; null for a group or a section.</param>
/// <param name="JsonPath">The full JSON name, e.g. <c>ema.decay</c> or <c>clip_grad_norm.max_norm</c>.</param>
/// <param name="CSharpPath">The full C# name, e.g. <c>Ema.Decay</c>.</param>
/// <param name="Children">For a group or a section, its members.</param>
public sealed record OptionDescriptor(PropertyInfo Property, OptionAttribute? Attribute, string JsonPath, string CSharpPath,
    IReadOnlyList<OptionDescriptor>? Children)
{
    /// <summary>True for a record of options given as its own JSON object (e.g. <c>"ema": {...}</c>).</summary>
    public bool IsSection => Children != null && Attribute != null;
    /// <summary>True for a record whose members sit at the parent's JSON level.</summary>
    public bool IsGroup => Children != null && Attribute == null;
    /// <summary>The property's type without <see cref="Nullable{T}"/>.</summary>
    public Type ValueType => Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;
}

/// <summary>
/// Binds, validates and documents options records from their <see cref="OptionAttribute"/> declarations, so a setting is
/// declared once: JSON reading, the checks shared by JSON and C#, and the markdown tables in docs/ all derive from it.
/// </summary>
public static class OptionBinder
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<OptionDescriptor>> Cache = new();

    /// <summary>The declared settings of <paramref name="type"/>, in declaration order, groups and sections expanded.</summary>
    public static IReadOnlyList<OptionDescriptor> Describe(Type type) => Cache.GetOrAdd(type, t => Describe(t, "", ""));

    private static IReadOnlyList<OptionDescriptor> Describe(Type type, string jsonPrefix, string csPrefix)
    {
        var list = new List<OptionDescriptor>();
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken))
        {
            var option = p.GetCustomAttribute<OptionAttribute>();
            var group = p.GetCustomAttribute<OptionGroupAttribute>();
            var cs = csPrefix + p.Name;
            if (group != null)
                list.Add(new OptionDescriptor(p, null, jsonPrefix, cs, Describe(p.PropertyType, jsonPrefix, cs + ".")));
            else if (option != null)
            {
                var valueType = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
                var json = jsonPrefix + option.Json;
                var children = IsSectionType(valueType) ? Describe(valueType, json + ".", cs + ".") : null;
                list.Add(new OptionDescriptor(p, option, json, cs, children));
            }
        }
        return list;
    }

    private static bool IsSectionType(Type t) =>
        t.IsClass && t != typeof(string) && !t.IsArray && t.GetProperties().Any(p => p.GetCustomAttribute<OptionAttribute>() != null);

    // ------------------------------------------------------------------ reading

    /// <summary>Reads every declared setting of <typeparamref name="T"/> from <paramref name="reader"/>'s object (marking
    /// those keys as known, so the caller's <see cref="SpecReader.EnsureNoUnknownKeys"/> accepts them); settings absent
    /// from the JSON keep <paramref name="defaults"/>' values (or the type's own defaults).</summary>
    /// <exception cref="SpecException">A value has the wrong type or is out of range; the message names the key.</exception>
    public static T Read<T>(SpecReader reader, T? defaults = null) where T : class, new() =>
        (T)ReadInto(typeof(T), reader, Copy(defaults ?? new T()), "");

    private static object ReadInto(Type type, SpecReader r, object instance, string jsonPrefix)
    {
        var members = Describe(type, jsonPrefix, "");
        var groups = new Dictionary<string, SpecReader?>();
        foreach (var m in members)
        {
            if (m.IsGroup)
            {
                m.Property.SetValue(instance, ReadInto(m.Property.PropertyType, r, Copy(m.Property.GetValue(instance)!), jsonPrefix));
                continue;
            }
            var local = m.Attribute!.Json;
            if (m.IsSection)
            {
                if (r.GetObjectOrNull(local, $"{r.Context} '{m.JsonPath}'") is { } sub)
                {
                    var current = m.Property.GetValue(instance) ?? Activator.CreateInstance(m.ValueType)!;
                    m.Property.SetValue(instance, ReadInto(m.ValueType, sub, Copy(current), m.JsonPath + "."));
                    sub.EnsureNoUnknownKeys();
                }
                continue;
            }
            var dot = local.IndexOf('.');
            if (dot < 0)
            {
                if (r.GetElement(local) is { } e) m.Property.SetValue(instance, Convert(e, m, r.Context));
                continue;
            }
            // A member of a JSON object of the parent ("clip_grad_norm.max_norm"), or that object's scalar shorthand.
            var parent = local[..dot];
            var key = local[(dot + 1)..];
            if (r.GetElement(parent) is not { } pe) continue;
            if (pe.ValueKind != JsonValueKind.Object)
            {
                if (m.Attribute.Shorthand) m.Property.SetValue(instance, Convert(pe, m, r.Context));
                continue;
            }
            if (!groups.TryGetValue(parent, out var pr)) groups[parent] = pr = new SpecReader(pe, $"{r.Context} '{jsonPrefix}{parent}'");
            if (pr!.GetElement(key) is { } ve) m.Property.SetValue(instance, Convert(ve, m, pr.Context));
            else if (!double.IsNaN(m.Attribute.WhenGroupGiven)) m.Property.SetValue(instance, Convert(JsonNumber(m.Attribute.WhenGroupGiven), m, pr.Context));
            else if (Nullable.GetUnderlyingType(m.Property.PropertyType) != null && m.Property.GetValue(instance) == null)
                throw new SpecException($"Missing '{key}' in {pr.Context}: it is required when '{jsonPrefix}{parent}' is given.", m.JsonPath);
        }
        foreach (var pr in groups.Values) pr!.EnsureNoUnknownKeys();
        return instance;
    }

    private static JsonElement JsonNumber(double v)
    {
        using var doc = JsonDocument.Parse(v.ToString("R", CultureInfo.InvariantCulture));
        return doc.RootElement.Clone();
    }

    private static object? Convert(JsonElement e, OptionDescriptor m, string context)
    {
        var t = m.ValueType;
        var a = m.Attribute!;
        SpecException Bad(string what) => new($"Invalid '{m.JsonPath}' in {context}: {what}", m.JsonPath);
        if (e.ValueKind == JsonValueKind.Null)
            return Nullable.GetUnderlyingType(m.Property.PropertyType) != null || !t.IsValueType ? null : throw Bad("must not be null.");
        object value;
        if (t == typeof(JsonElement)) return e.Clone();
        if (t == typeof(bool))
            value = e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : throw Bad($"expected true or false, got {e.GetRawText()}.");
        else if (t == typeof(double)) value = Number(e, Bad);
        else if (t == typeof(int) || t == typeof(long))
        {
            var d = Number(e, Bad);
            if (d != Math.Floor(d) || double.IsInfinity(d)) throw Bad($"expected a whole number, got {e.GetRawText()}.");
            var limit = t == typeof(int) ? int.MaxValue : long.MaxValue;
            if (Math.Abs(d) > limit) throw Bad($"{e.GetRawText()} is too large (at most {limit.ToString(CultureInfo.InvariantCulture)}).");
            value = t == typeof(int) ? (object)(int)d : (long)d;
        }
        else if (t == typeof(string)) value = e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Bad($"expected a string, got {e.GetRawText()}.");
        else if (t == typeof(Device))
        {
            if (e.ValueKind != JsonValueKind.String) throw Bad($"expected a device name such as \"cpu\" or \"cuda:0\", got {e.GetRawText()}.");
            try { value = Device.Parse(e.GetString()!); }
            catch (ArgumentException x) { throw Bad(x.ParamName is { } n ? x.Message.Replace($" (Parameter '{n}')", "") : x.Message); }
        }
        else if (t.IsEnum)
        {
            var names = EnumNames(t);
            value = e.ValueKind == JsonValueKind.String && names.FirstOrDefault(n => n.Json == e.GetString()) is { Json: not null } hit
                ? hit.Value
                : throw Bad($"expected one of {string.Join(", ", names.Select(n => $"\"{n.Json}\""))}, got {e.GetRawText()}.");
        }
        else if (t == typeof(double[]) || t == typeof(IReadOnlyList<double>))
            value = Array(e, x => Number(x, Bad), Bad);
        else if (t == typeof(int[]) || t == typeof(IReadOnlyList<int>))
            value = Array(e, x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out var i) ? i : throw Bad($"expected whole numbers, got {x.GetRawText()}."), Bad);
        else if (t == typeof(string[]) || t == typeof(IReadOnlyList<string>))
            value = Array(e, x => x.ValueKind == JsonValueKind.String ? x.GetString()! : throw Bad($"expected strings, got {x.GetRawText()}."), Bad);
        else throw new NotSupportedException($"Option '{m.JsonPath}' has a type the binder does not read: {t.Name}.");
        var problem = Check(value, a);
        if (problem != null) throw Bad(problem + ".");
        return value;
    }

    private static double Number(JsonElement e, Func<string, SpecException> bad)
    {
        if (e.ValueKind == JsonValueKind.Number) return e.GetDouble();
        // JSON has no inf/nan literals; accept Python's spellings as strings.
        if (e.ValueKind == JsonValueKind.String)
            switch (e.GetString()!.Trim().ToLowerInvariant())
            {
                case "inf" or "+inf" or "infinity": return double.PositiveInfinity;
                case "-inf" or "-infinity": return double.NegativeInfinity;
            }
        throw bad($"expected a number, got {e.GetRawText()}.");
    }

    private static T[] Array<T>(JsonElement e, Func<JsonElement, T> item, Func<string, SpecException> bad) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().Select(item).ToArray() : throw bad($"expected an array, got {e.GetRawText()}.");

    /// <summary>The JSON names of an enum's members (snake_case) with their values.</summary>
    public static IReadOnlyList<(string Json, object Value)> EnumNames(Type enumType) =>
        Enum.GetValues(enumType).Cast<object>().Select(v => (SnakeCase(v.ToString()!), v)).ToArray();

    /// <summary>The JSON name of an enum value (<c>ValLoss</c> → <c>val_loss</c>).</summary>
    public static string JsonName(Enum value) => SnakeCase(value.ToString());

    /// <summary><c>EmaValAccuracy</c> → <c>ema_val_accuracy</c>.</summary>
    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    // ------------------------------------------------------------------ validation

    /// <summary>Checks every declared setting of <paramref name="options"/> (recursively) against its declaration.</summary>
    /// <param name="options">An options record.</param>
    /// <param name="what">How messages name it, e.g. "trainer option".</param>
    /// <exception cref="SpecException">The first invalid setting, named by its JSON key, with its valid range.</exception>
    public static void Validate(object options, string what = "option")
    {
        foreach (var m in Describe(options.GetType()))
        {
            var value = m.Property.GetValue(options);
            if (m.Children != null)
            {
                if (value != null) Validate(value, what);
                continue;
            }
            if (value == null) continue;
            if (Check(value, m.Attribute!) is { } problem)
                throw new SpecException($"Invalid {what} '{m.JsonPath}' = {Show(value)}: {problem}.", m.JsonPath);
        }
    }

    private static string? Check(object value, OptionAttribute a)
    {
        if (value is string s)
            return a.OneOf is { } allowed && !allowed.Contains(s) ? $"must be one of {string.Join(", ", allowed.Select(x => $"\"{x}\""))}" : null;
        var numbers = value switch
        {
            double d => new[] { d },
            int i => new[] { (double)i },
            long l => new[] { (double)l },
            IEnumerable<double> ds => ds.ToArray(),
            IEnumerable<int> iss => iss.Select(x => (double)x).ToArray(),
            _ => System.Array.Empty<double>(),
        };
        foreach (var v in numbers)
        {
            if (double.IsNaN(v)) return "must be a number, not NaN";
            if (!double.IsNaN(a.Min) && (a.MinExclusive ? v <= a.Min : v < a.Min)) return $"must be {(a.MinExclusive ? ">" : "≥")} {Show(a.Min)}";
            if (!double.IsNaN(a.Max) && (a.MaxExclusive ? v >= a.Max : v > a.Max)) return $"must be {(a.MaxExclusive ? "<" : "≤")} {Show(a.Max)}";
        }
        return null;
    }

    // ------------------------------------------------------------------ documentation

    /// <summary>A markdown table of every declared setting of <paramref name="type"/>: JSON key, C# name, default, valid
    /// values and what it does. docs/ embeds these tables; a test keeps them equal to this output.</summary>
    public static string Markdown(Type type)
    {
        var sb = new StringBuilder("| JSON | C# | default | valid | what it does |\n|---|---|---|---|---|\n");
        void Rows(IReadOnlyList<OptionDescriptor> members, object? defaults)
        {
            foreach (var m in members)
            {
                var value = defaults == null ? null : m.Property.GetValue(defaults);
                if (m.IsGroup) { Rows(m.Children!, value); continue; }
                var a = m.Attribute!;
                if (m.IsSection)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"| `{m.JsonPath}` | `{m.CSharpPath}` | {(value == null ? "off" : "on")} | object | {a.Help} |\n");
                    Rows(m.Children!, value ?? Activator.CreateInstance(m.ValueType));
                    continue;
                }
                var json = a.Shorthand ? $"`{m.JsonPath}` (or `{m.JsonPath[..m.JsonPath.LastIndexOf('.')]}`: number)" : $"`{m.JsonPath}`";
                sb.Append(CultureInfo.InvariantCulture, $"| {json} | `{m.CSharpPath}` | {DefaultText(value, m)} | {Valid(m)} | {a.Help} |\n");
            }
        }
        Rows(Describe(type), Activator.CreateInstance(type));
        return sb.ToString();
    }

    private static string DefaultText(object? value, OptionDescriptor m) => value switch
    {
        null => m.ValueType == typeof(JsonElement) ? "none" : "off",
        JsonElement e => $"`{e.GetRawText()}`",
        Enum en => $"`\"{JsonName(en)}\"`",
        string s => $"`\"{s}\"`",
        bool b => b ? "`true`" : "`false`",
        Device d => $"`\"{d}\"`",
        _ => $"`{Show(value)}`",
    };

    private static string Valid(OptionDescriptor m)
    {
        var a = m.Attribute!;
        var t = m.ValueType;
        if (t.IsEnum) return string.Join(", ", EnumNames(t).Select(n => $"`{n.Json}`"));
        if (a.OneOf != null) return string.Join(", ", a.OneOf.Select(x => $"`{x}`"));
        if (t == typeof(bool)) return "true, false";
        if (t == typeof(Device)) return "`cpu`, `cuda`, `cuda:N`";
        if (t == typeof(JsonElement)) return "a spec object";
        var parts = new List<string>();
        if (!double.IsNaN(a.Min)) parts.Add($"{(a.MinExclusive ? ">" : "≥")} {Show(a.Min)}");
        if (!double.IsNaN(a.Max)) parts.Add($"{(a.MaxExclusive ? "<" : "≤")} {Show(a.Max)}");
        var kind = t == typeof(int) || t == typeof(long) ? "integer" : t == typeof(double) ? "number" : t == typeof(string) ? "string" : "list";
        var text = parts.Count == 0 ? kind : $"{kind} {string.Join(", ", parts)}";
        return Nullable.GetUnderlyingType(m.Property.PropertyType) != null || (!t.IsValueType && t != typeof(string)) ? text + "; null = off" : text;
    }

    private static string Show(object value) => value switch
    {
        double d when double.IsPositiveInfinity(d) => "inf",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IEnumerable<double> ds => "[" + string.Join(", ", ds.Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]",
        IEnumerable<int> iss => "[" + string.Join(", ", iss) + "]",
        IEnumerable<string> ss => "[" + string.Join(", ", ss.Select(x => $"\"{x}\"")) + "]",
        _ => System.Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    // Records are immutable; reading fills a copy (their compiler-made copy constructor, through the clone method).
    private static object Copy(object source)
    {
        var clone = source.GetType().GetMethod("<Clone>$");
        return clone != null ? clone.Invoke(source, null)! : source;
    }
}
