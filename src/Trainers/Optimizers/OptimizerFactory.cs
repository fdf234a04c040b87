using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Specs;

namespace MLLrSched.Optimizers;

/// <summary>
/// Builds optimizers from JSON specs with PyTorch's class and argument names, e.g.
/// <c>{"type": "AdamW", "lr": 0.001, "betas": [0.9, 0.999], "weight_decay": 0.01}</c>, over a model's named
/// parameters. Besides the optimizer's own arguments a spec may have:
/// <list type="bullet">
/// <item><c>param_groups</c>: a list of groups, each with <c>params</c> (<c>"no_decay"</c>, <c>"decay"</c>,
/// <c>"all"</c>, or a list of name globs such as <c>["head.*"]</c>) and any of the optimizer's arguments as
/// overrides. Each parameter joins the first group that selects it; the others form the default group, which
/// comes first.</item>
/// <item><c>layer_decay</c>: a number in (0, 1]; every group is split by layer (see
/// <see cref="ParameterGroups.LayerIds"/>) and each layer's <c>lr</c> scaled by <c>layer_decay^(top − layer)</c>.</item>
/// <item><c>fused</c>: true, false or null (default): whether to use the fused CPU kernels
/// (<see cref="Optimizer.UseFusedKernels"/>); <c>foreach</c>: accepted for PyTorch compatibility, no effect.</item>
/// <item><c>torch_semantics</c>: <c>"auto"</c> (default), <c>"1.13"</c> or <c>"2.x"</c>: which PyTorch version's
/// semantics to follow where <c>torch.optim</c> changed (<see cref="Optimizer.TorchSemantics"/>); auto follows the
/// libtorch of the parameters' backend. Arguments that version lacks (NAdam's <c>maximize</c> under 1.13) are refused,
/// and its required ones (SGD's <c>lr</c> under 1.13) demanded.</item>
/// </list>
/// Your own optimizers register with <see cref="Register(OptimizerSchema, Func{IReadOnlyList{ParamGroup}, ParamGroup, Optimizer})"/>
/// and then build from JSON like the built-in ones.
/// </summary>
public static class OptimizerFactory
{
    // Declared before Registry: static initializers run in textual order.
    private static readonly Dictionary<string, OptimizerSchema> Schemas = new(StringComparer.Ordinal);

    /// <summary>The registry of optimizer types (PyTorch's class names).</summary>
    public static SpecRegistry<IReadOnlyList<NamedTensor>, IOptimizer> Registry { get; } = CreateBuiltIns();

    /// <summary>The schema of a registered type (null for types registered with a raw factory).</summary>
    public static OptimizerSchema? SchemaOf(string type)
    {
        lock (Schemas) return Schemas.GetValueOrDefault(type);
    }

    /// <summary>Builds an optimizer from JSON text over <paramref name="parameters"/>.</summary>
    /// <exception cref="SpecException">Unknown type or key, or an invalid value; the message names the key and what is valid.</exception>
    public static IOptimizer Create(string json, IReadOnlyList<NamedTensor> parameters) => Registry.Create(json, parameters);

    /// <summary>Builds an optimizer from a JSON object over <paramref name="parameters"/>.</summary>
    public static IOptimizer Create(JsonElement spec, IReadOnlyList<NamedTensor> parameters) => Registry.Create(spec, parameters);

    /// <summary>
    /// Checks a spec without building anything (no parameters needed): the type, every key and value, and the shape of
    /// <c>param_groups</c>; what depends on the model (which parameters a pattern selects) is checked when it is built.
    /// Optimizers registered with a raw factory are checked for their type only.
    /// </summary>
    /// <exception cref="SpecException">The first problem, naming the key and what is valid.</exception>
    /// <remarks>With <c>"torch_semantics": "auto"</c> (or none) the PyTorch version is the engine's, unknown here: what
    /// depends on it (SGD's <c>lr</c>, NAdam's <c>maximize</c>, ...) is checked when the optimizer is built.</remarks>
    public static void Validate(JsonElement spec)
    {
        var (reader, _) = Registry.Resolve(spec);
        var semantics = ReadSemantics(reader);
        if (SchemaOf(spec.GetProperty("type").GetString()!) is not { } schema) return;
        var version = semantics == TorchSemantics.Auto ? null : new VersionCheck(TorchBehaviour.Of(semantics, null), AsAsked(semantics));
        var defaults = new ParamGroup(Array.Empty<ITensor>());
        ReadArguments(reader, schema, defaults, version);
        foreach (var hp in schema.HyperParameters)
            if (IsMissing(hp, defaults, version?.Behaviour))
                throw Missing(hp, reader, version);
        if (reader.Has("fused")) reader.GetBool("fused", true);
        if (reader.Has("foreach")) reader.GetBool("foreach", false);
        reader.GetDoubleOrNull("layer_decay", min: 0, max: 1, minExclusive: true);
        var groups = reader.GetObjectArray("param_groups");
        for (var gi = 0; gi < groups.Count; gi++)
        {
            var gr = new SpecReader(groups[gi], $"param_groups[{gi}] of {reader.Context}");
            Selector(gr.GetElement("params")
                ?? throw new SpecException($"Missing 'params' in {gr.Context}: give \"no_decay\", \"decay\", \"all\" or a list of name patterns such as [\"head.*\"].", "params"), gr.Context);
            ReadArguments(gr, schema, new ParamGroup(Array.Empty<ITensor>()), version);
            gr.EnsureNoUnknownKeys();
        }
        reader.EnsureNoUnknownKeys();
    }

    /// <summary>The version an optimizer being read follows, and how a message says why.</summary>
    private sealed record VersionCheck(TorchBehaviour Behaviour, string Why);

    private static string AsAsked(TorchSemantics semantics) => $"as \"torch_semantics\": \"{TorchBehaviour.Format(semantics)}\" asks";

    private static TorchSemantics ReadSemantics(SpecReader reader)
    {
        var text = reader.GetStringOrNull("torch_semantics", ["auto", "1.13", "2.x"]);
        return text == null ? TorchSemantics.Auto : TorchBehaviour.Parse(text);
    }

    private static bool IsMissing(HyperParameter hp, ParamGroup defaults, TorchBehaviour? behaviour) =>
        !hp.Keys.All(defaults.Has) && (hp.Required || (hp.DefaultAddedIn != null && behaviour != null && !behaviour.Includes(hp.DefaultAddedIn)));

    private static SpecException Missing(HyperParameter hp, SpecReader reader, VersionCheck? version) =>
        new(hp.Required || version == null
            ? $"Missing '{hp.Name}' in {reader.Context}: it is required ({hp.Description})."
            : $"Missing '{hp.Name}' in {reader.Context}: it is required ({hp.Description}) under PyTorch {version.Behaviour.Series} semantics, " +
              $"which has no default for it ({TorchBehaviour.Format(hp.DefaultAddedIn!.Value)}: {hp.FixedDefaultText}); the optimizer follows " +
              $"PyTorch {version.Behaviour.Series} {version.Why}.", hp.Name);

    /// <summary>
    /// Registers an optimizer described by <paramref name="schema"/>: its JSON spec is read argument by argument from the
    /// schema (with <c>param_groups</c>, <c>layer_decay</c>, <c>fused</c> and <c>torch_semantics</c>), and
    /// <paramref name="create"/> receives the groups and the defaults (PyTorch's <c>defaults</c>); the optimizer's
    /// <see cref="Optimizer.TorchSemantics"/> is set from the spec afterwards.
    /// </summary>
    public static void Register(OptimizerSchema schema, Func<IReadOnlyList<ParamGroup>, ParamGroup, Optimizer> create)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(create);
        Registry.Register(schema.Name, (reader, parameters) => Build(reader, parameters, schema, (g, d, semantics) =>
        {
            var optimizer = create(g, d);
            optimizer.TorchSemantics = semantics;
            return optimizer;
        }));
        lock (Schemas) Schemas[schema.Name] = schema;
    }

    /// <summary>Registers a factory that reads its spec itself.</summary>
    public static void Register(string type, Func<SpecReader, IReadOnlyList<NamedTensor>, IOptimizer> factory) =>
        Registry.Register(type, factory);

    private static SpecRegistry<IReadOnlyList<NamedTensor>, IOptimizer> CreateBuiltIns()
    {
        var r = new SpecRegistry<IReadOnlyList<NamedTensor>, IOptimizer>("optimizer");
        void Add(OptimizerSchema schema, Func<IReadOnlyList<ParamGroup>, ParamGroup, TorchSemantics, Optimizer> create)
        {
            r.Register(schema.Name, (reader, parameters) => Build(reader, parameters, schema, create));
            Schemas[schema.Name] = schema;
        }
        Add(Sgd.Arguments, (g, d, s) => new Sgd(g, d, s));
        Add(Adam.Arguments, (g, d, s) => new Adam(g, d, s));
        Add(AdamW.Arguments, (g, d, s) => new AdamW(g, d, s));
        Add(Adamax.Arguments, (g, d, s) => new Adamax(g, d, s));
        Add(NAdam.Arguments, (g, d, s) => new NAdam(g, d, s));
        Add(RAdam.Arguments, (g, d, s) => new RAdam(g, d, s));
        Add(Adagrad.Arguments, (g, d, s) => new Adagrad(g, d) { TorchSemantics = s });
        Add(Adadelta.Arguments, (g, d, s) => new Adadelta(g, d, s));
        Add(RmsProp.Arguments, (g, d, s) => new RmsProp(g, d, s));
        Add(Asgd.Arguments, (g, d, s) => new Asgd(g, d) { TorchSemantics = s });
        Add(Rprop.Arguments, (g, d, s) => new Rprop(g, d, s));
        Add(Lbfgs.Arguments, (g, d, s) => new Lbfgs(g, d) { TorchSemantics = s });
        Add(SparseAdam.Arguments, (g, d, s) => new SparseAdam(g, d) { TorchSemantics = s });
        Add(Lion.Arguments, (g, d, s) => new Lion(g, d) { TorchSemantics = s });
        Add(Lamb.Arguments, (g, d, s) => new Lamb(g, d) { TorchSemantics = s });
        Add(Adafactor.Arguments, (g, d, s) => new Adafactor(g, d) { TorchSemantics = s });
        return r;
    }

    private static IOptimizer Build(SpecReader reader, IReadOnlyList<NamedTensor> parameters, OptimizerSchema schema,
        Func<IReadOnlyList<ParamGroup>, ParamGroup, TorchSemantics, Optimizer> create)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var semantics = ReadSemantics(reader);
        // The version is known here when there are parameters (an empty list is refused by the optimizer itself).
        VersionCheck? version = null;
        if (semantics != TorchSemantics.Auto) version = new(TorchBehaviour.Of(semantics, null), AsAsked(semantics));
        else if (parameters.Count > 0)
        {
            var libtorch = parameters[0].Tensor.Backend.LibtorchVersion;
            try
            {
                var behaviour = TorchBehaviour.Of(TorchSemantics.Auto, libtorch);
                version = new(behaviour, $"because its parameters' libtorch is {libtorch}");
            }
            catch (ArgumentException e)
            {
                throw new SpecException($"Invalid {reader.Context}: {e.Message}", "torch_semantics");
            }
        }
        var defaults = new ParamGroup(Array.Empty<ITensor>());
        ReadArguments(reader, schema, defaults, version);
        foreach (var hp in schema.HyperParameters)
        {
            if (IsMissing(hp, defaults, version?.Behaviour)) throw Missing(hp, reader, version);
            if (hp.HasFixedDefault || version == null || version.Behaviour.Includes(hp.DefaultAddedIn)) hp.ApplyDefault(defaults);
        }
        var fused = reader.Has("fused") ? reader.GetBool("fused", true) : (bool?)null;
        if (reader.Has("foreach")) reader.GetBool("foreach", false);
        var layerDecay = reader.GetDoubleOrNull("layer_decay", min: 0, max: 1, minExclusive: true);
        var groups = ReadGroups(reader, schema, parameters, version);
        if (layerDecay is { } decay)
        {
            var lrDefault = defaults.TryGet("lr", out var l) ? l : (double?)null;
            groups = SplitByLayer(groups, parameters, decay, lrDefault, reader.Context);
        }
        try
        {
            var optimizer = create(groups, defaults, semantics);
            if (fused is { } f) optimizer.UseFusedKernels = f;
            return optimizer;
        }
        catch (ArgumentException e) when (e is not SpecException)
        {
            throw new SpecException($"Invalid {reader.Context}: {e.Message}", e.ParamName);
        }
    }

    /// <summary>Reads the schema's arguments present in a spec object into <paramref name="target"/>; refuses those
    /// the PyTorch version of <paramref name="version"/> lacks (any value, as PyTorch's constructor refuses the keyword).</summary>
    private static void ReadArguments(SpecReader reader, OptimizerSchema schema, ParamGroup target, VersionCheck? version)
    {
        foreach (var hp in schema.HyperParameters)
        {
            if (!hp.Settable) continue;
            var explicitNull = reader.Json.TryGetProperty(hp.Name, out var raw) && raw.ValueKind == JsonValueKind.Null;
            reader.Allow(hp.Name);
            if (version != null && !version.Behaviour.Includes(hp.AddedIn) && reader.Json.TryGetProperty(hp.Name, out _))
                throw new SpecException(
                    $"Invalid '{hp.Name}' in {reader.Context}: {schema.NotInVersion(hp, version.Behaviour)}; the optimizer follows " +
                    $"PyTorch {version.Behaviour.Series} {version.Why}. Add \"torch_semantics\": \"2.x\" to use it.", hp.Name);
            if (explicitNull)
            {
                if (!hp.Nullable)
                    throw new SpecException($"Invalid '{hp.Name}' in {reader.Context}: null is not allowed; expected {Expected(hp)}.", hp.Name);
                if (hp.Kind is HyperParameterKind.Number or HyperParameterKind.Integer) target.SetNull(hp.Name);
                else target.SetOption(hp.Name, null);
                continue;
            }
            if (!reader.Has(hp.Name)) continue;
            switch (hp.Kind)
            {
                case HyperParameterKind.Number:
                    target[hp.Name] = reader.GetDouble(hp.Name, 0, hp.Range.Min, hp.Range.Max, hp.Range.MinExclusive, hp.Range.MaxExclusive);
                    break;
                case HyperParameterKind.Integer:
                    var v = reader.GetLong(hp.Name, 0);
                    if (!hp.Range.Contains(v))
                        throw new SpecException($"Invalid '{hp.Name}' in {reader.Context}: must be {hp.Range}, got {v}.", hp.Name);
                    target[hp.Name] = v;
                    break;
                case HyperParameterKind.Pair:
                    var pair = reader.GetDoubleArrayOrNull(hp.Name, length: 2)!;
                    if (!hp.Range.Contains(pair[0]))
                        throw new SpecException($"Invalid '{hp.Name}' in {reader.Context}: {hp.Name}[0] must be {hp.Range}, got {ValidRange.Fmt(pair[0])}.", hp.Name);
                    if (!hp.SecondRange.Contains(pair[1]))
                        throw new SpecException($"Invalid '{hp.Name}' in {reader.Context}: {hp.Name}[1] must be {hp.SecondRange}, got {ValidRange.Fmt(pair[1])}.", hp.Name);
                    target[hp.Keys[0]] = pair[0];
                    target[hp.Keys[1]] = pair[1];
                    break;
                case HyperParameterKind.Flag:
                    target.SetOption(hp.Name, reader.GetBool(hp.Name, false));
                    break;
                case HyperParameterKind.Text:
                    target.SetOption(hp.Name, reader.GetStringOrNull(hp.Name, hp.Allowed));
                    break;
            }
        }
    }

    private static string Expected(HyperParameter hp) => hp.Kind switch
    {
        HyperParameterKind.Pair => "a pair of numbers",
        HyperParameterKind.Flag => "true or false",
        HyperParameterKind.Text => $"one of {string.Join(", ", hp.Allowed.Select(a => $"\"{a}\""))}",
        _ => $"a number {hp.Range}",
    };

    /// <summary>The groups of a spec: the default group (unselected parameters) first, then each listed group.</summary>
    private static List<ParamGroup> ReadGroups(SpecReader reader, OptimizerSchema schema, IReadOnlyList<NamedTensor> parameters,
        VersionCheck? version)
    {
        var specs = reader.GetObjectArray("param_groups");
        var assigned = new int[parameters.Count];
        Array.Fill(assigned, -1);
        var listed = new List<(ParamGroup Overrides, List<int> Members)>();
        for (var gi = 0; gi < specs.Count; gi++)
        {
            var gr = new SpecReader(specs[gi], $"param_groups[{gi}] of {reader.Context}");
            var selector = gr.GetElement("params")
                ?? throw new SpecException($"Missing 'params' in {gr.Context}: give \"no_decay\", \"decay\", \"all\" or a list of name patterns such as [\"head.*\"].", "params");
            var selects = Selector(selector, gr.Context);
            var members = new List<int>();
            var matchedAny = false;
            for (var i = 0; i < parameters.Count; i++)
            {
                if (!selects(parameters[i])) continue;
                matchedAny = true;
                if (assigned[i] >= 0) continue;
                assigned[i] = gi;
                members.Add(i);
            }
            if (!matchedAny && selector.ValueKind == JsonValueKind.Array)
                throw new SpecException(
                    $"Invalid 'params' in {gr.Context}: the patterns {selector.GetRawText()} match no parameter. Parameters: " +
                    $"{string.Join(", ", parameters.Take(20).Select(p => p.Name))}{(parameters.Count > 20 ? ", ..." : "")}.", "params");
            var overrides = new ParamGroup(Array.Empty<ITensor>());
            ReadArguments(gr, schema, overrides, version);
            gr.EnsureNoUnknownKeys();
            listed.Add((overrides, members));
        }
        var groups = new List<ParamGroup>();
        var rest = Enumerable.Range(0, parameters.Count).Where(i => assigned[i] < 0).ToList();
        if (rest.Count > 0) groups.Add(ParamGroup.FromNamed(rest.Select(i => parameters[i])));
        foreach (var (overrides, members) in listed)
        {
            if (members.Count == 0) continue;
            var g = ParamGroup.FromNamed(members.Select(i => parameters[i]), overrides.Hyperparameters, overrides.Options);
            foreach (var k in overrides.NullKeys) g.SetNull(k);
            groups.Add(g);
        }
        if (groups.Count == 0)
            throw new SpecException($"The {reader.Context} got no parameters to optimize.", "param_groups");
        return groups;
    }

    private static Func<NamedTensor, bool> Selector(JsonElement selector, string context)
    {
        if (selector.ValueKind == JsonValueKind.String)
            return selector.GetString() switch
            {
                "all" => _ => true,
                "decay" => p => !ParameterGroups.IsNoDecay(p),
                "no_decay" => ParameterGroups.IsNoDecay,
                var s => throw new SpecException(
                    $"Invalid 'params' in {context}: '{s}' is not one of \"no_decay\", \"decay\", \"all\"; name patterns go in a list, e.g. [\"{s}\"].", "params"),
            };
        if (selector.ValueKind == JsonValueKind.Array && selector.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
        {
            var patterns = selector.EnumerateArray().Select(e => e.GetString()!).ToArray();
            return p => patterns.Any(pattern => ParameterGroups.GlobMatch(pattern, p.Name));
        }
        throw new SpecException(
            $"Invalid 'params' in {context}: expected \"no_decay\", \"decay\", \"all\" or a list of name patterns, got {selector.GetRawText()}.", "params");
    }

    private static List<ParamGroup> SplitByLayer(List<ParamGroup> groups, IReadOnlyList<NamedTensor> parameters, double decay,
        double? lrDefault, string context)
    {
        var ids = ParameterGroups.LayerIds(parameters);
        var idOf = new Dictionary<ITensor, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < parameters.Count; i++) idOf[parameters[i].Tensor] = ids[i];
        var maxId = ids.Length == 0 ? 0 : ids.Max();
        var result = new List<ParamGroup>();
        foreach (var g in groups)
        {
            var lr = g.TryGet("lr", out var own) ? own : lrDefault
                ?? throw new SpecException($"Invalid {context}: layer_decay needs an lr to scale.", "layer_decay");
            var members = Enumerable.Range(0, g.Parameters.Count).ToList();
            foreach (var id in members.Select(i => idOf[g.Parameters[i]]).Distinct().Order())
            {
                var inLayer = members.Where(i => idOf[g.Parameters[i]] == id).ToList();
                var values = new Dictionary<string, double>(g.Hyperparameters) { ["lr"] = lr * Math.Pow(decay, maxId - id) };
                var split = new ParamGroup(inLayer.Select(i => g.Parameters[i]), values, inLayer.Select(i => g.Names[i]), g.Options);
                foreach (var k in g.NullKeys) split.SetNull(k);
                result.Add(split);
            }
        }
        return result;
    }
}
