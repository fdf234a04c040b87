using System.Text.Json;

namespace MLLrSched.Specs;

/// <summary>
/// Maps spec type names (PyTorch's class names, Hugging Face's schedule names) to factories. One registry
/// per kind of thing (optimizers, schedules). Unknown names are errors listing the registered ones.
/// </summary>
/// <typeparam name="TArgs">Extra arguments a factory needs besides the spec (e.g. the parameter groups).</typeparam>
/// <typeparam name="TResult">What the factories build.</typeparam>
public sealed class SpecRegistry<TArgs, TResult>
{
    private readonly Dictionary<string, Func<SpecReader, TArgs, TResult>> _factories = new(StringComparer.Ordinal);
    private readonly string _kind;

    /// <summary>Creates an empty registry; <paramref name="kind"/> names it in messages ("optimizer", "schedule").</summary>
    public SpecRegistry(string kind) => _kind = kind;

    /// <summary>Registered type names, sorted.</summary>
    public IReadOnlyList<string> Names => _factories.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();

    /// <summary>Registers a factory. The factory reads its keys from the <see cref="SpecReader"/>; the registry
    /// then rejects any key it did not read.</summary>
    public void Register(string name, Func<SpecReader, TArgs, TResult> factory)
    {
        if (!_factories.TryAdd(name, factory))
            throw new InvalidOperationException($"The {_kind} type '{name}' is registered twice.");
    }

    /// <summary>True when <paramref name="name"/> is registered.</summary>
    public bool Contains(string name) => _factories.ContainsKey(name);

    /// <summary>Builds from a JSON spec whose <c>type</c> key names the factory.</summary>
    /// <exception cref="SpecException">Missing or unknown type, unknown keys, or invalid values.</exception>
    public TResult Create(JsonElement spec, TArgs args)
    {
        var (reader, factory) = Resolve(spec);
        var result = factory(reader, args);
        reader.EnsureNoUnknownKeys();
        return result;
    }

    /// <summary>The reader over <paramref name="spec"/> and the factory its <c>type</c> names.</summary>
    /// <exception cref="SpecException">The spec is not an object, or its type is missing or unknown (listing the valid ones).</exception>
    public (SpecReader Reader, Func<SpecReader, TArgs, TResult> Factory) Resolve(JsonElement spec)
    {
        if (spec.ValueKind != JsonValueKind.Object)
            throw new SpecException($"A {_kind} spec must be a JSON object with a \"type\" key, got {spec.ValueKind}.");
        if (!spec.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String)
            throw new SpecException($"The {_kind} spec has no \"type\" string. Valid types: {string.Join(", ", Names)}.", "type");
        var name = t.GetString()!;
        if (!_factories.TryGetValue(name, out var factory))
        {
            var hint = SpecNames.Closest(name, _factories.Keys) is { } c ? $" Did you mean '{c}'?" : "";
            throw new SpecException($"Unknown {_kind} type '{name}'.{hint} Valid types: {string.Join(", ", Names)}.", "type");
        }
        return (new SpecReader(spec, $"{_kind} '{name}'"), factory);
    }

    /// <summary>Builds from JSON text.</summary>
    public TResult Create(string json, TArgs args)
    {
        using var doc = JsonDocument.Parse(json);
        return Create(doc.RootElement.Clone(), args);
    }
}
