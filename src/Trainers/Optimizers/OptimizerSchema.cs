namespace MLLrSched.Optimizers;

/// <summary>
/// An optimizer's constructor arguments as PyTorch (or the reference implementation) names them. The base
/// <see cref="Optimizer"/> uses the schema to fill each group's defaults, validate settings (ArgumentException
/// naming the setting and its valid range), read JSON specs and write <c>param_groups</c> in state dicts.
/// </summary>
public sealed class OptimizerSchema
{
    private readonly Dictionary<string, HyperParameter> _byName;

    /// <summary>Creates a schema.</summary>
    /// <param name="name">The type name in JSON specs and messages (PyTorch's class name, e.g. <c>AdamW</c>).</param>
    /// <param name="hyperParameters">The constructor arguments, in PyTorch's order.</param>
    public OptimizerSchema(string name, params HyperParameter[] hyperParameters)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        HyperParameters = hyperParameters;
        _byName = hyperParameters.ToDictionary(h => h.Name, StringComparer.Ordinal);
    }

    /// <summary>The type name in JSON specs and messages.</summary>
    public string Name { get; }

    /// <summary>The arguments, in PyTorch's order.</summary>
    public IReadOnlyList<HyperParameter> HyperParameters { get; }

    /// <summary>The argument named <paramref name="name"/>, or null.</summary>
    public HyperParameter? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>
    /// The optimizer's defaults (PyTorch's <c>optimizer.defaults</c>) as a parameter-less group: each argument
    /// from <paramref name="values"/> (by PyTorch name: double, long, (double, double), bool, string or null),
    /// else its schema default. An argument whose default depends on the PyTorch version
    /// (<see cref="HyperParameter.DefaultAddedIn"/>, SGD's <c>lr</c>) is left out when not given; the optimizer fills it
    /// in, or refuses its absence, once it knows its semantics (<see cref="ApplyVersionDefaults"/>).
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name, a value of the wrong kind, or a required argument is missing.</exception>
    public ParamGroup MakeDefaults(IReadOnlyDictionary<string, object?>? values = null)
    {
        var g = new ParamGroup(Array.Empty<Backend.ITensor>());
        if (values != null)
            foreach (var (k, v) in values)
            {
                var hp = Find(k) ?? throw new ArgumentException(
                    $"{Name} has no argument '{k}'. Valid: {string.Join(", ", HyperParameters.Select(h => h.Name))}.", k);
                Store(hp, g, v);
            }
        foreach (var hp in HyperParameters)
        {
            if (hp.Required && !hp.Keys.All(g.Has))
                throw new ArgumentException($"{Name}: {hp.Name} is required (PyTorch has no default for it).", hp.Name);
            if (hp.HasFixedDefault) hp.ApplyDefault(g);
        }
        return g;
    }

    /// <summary>
    /// Fills in the defaults that depend on the PyTorch version (<see cref="HyperParameter.DefaultAddedIn"/>) where
    /// <paramref name="defaults"/> lacks them, or throws when <paramref name="behaviour"/> has no default for one.
    /// </summary>
    /// <exception cref="ArgumentException">A required argument under these semantics is missing.</exception>
    public void ApplyVersionDefaults(ParamGroup defaults, TorchBehaviour behaviour)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        ArgumentNullException.ThrowIfNull(behaviour);
        foreach (var hp in HyperParameters)
        {
            if (hp.HasFixedDefault || hp.Keys.All(defaults.Has)) continue;
            if (!behaviour.Includes(hp.DefaultAddedIn))
                throw new ArgumentException(
                    $"{Name}: {hp.Name} is required under {behaviour} semantics (PyTorch {behaviour.Series} has no default for it; " +
                    $"{TorchBehaviour.Format(hp.DefaultAddedIn!.Value)} defaults to {hp.FixedDefaultText}).", hp.Name);
            hp.ApplyDefault(defaults);
        }
    }

    /// <summary>
    /// The error for a group that sets an argument <paramref name="behaviour"/>'s PyTorch does not have
    /// (<see cref="HyperParameter.AddedIn"/>) to anything but its default, or null when there is none.
    /// </summary>
    internal string? VersionError(ParamGroup group, TorchBehaviour behaviour) =>
        HyperParameters.Where(hp => !behaviour.Includes(hp.AddedIn) && !hp.IsDefaultIn(group))
            .Select(hp => NotInVersion(hp, behaviour)).FirstOrDefault();

    /// <summary>"PyTorch 1.13's NAdam has no 'maximize' (added in 2.x)".</summary>
    internal string NotInVersion(HyperParameter hp, TorchBehaviour behaviour) =>
        $"PyTorch {behaviour.Series}'s {Name} has no '{hp.Name}' (added in {TorchBehaviour.Format(hp.AddedIn!.Value)})";

    /// <summary>Stores <paramref name="value"/> for <paramref name="hp"/> in <paramref name="group"/>.</summary>
    internal void Store(HyperParameter hp, ParamGroup group, object? value)
    {
        switch (hp.Kind)
        {
            case HyperParameterKind.Number:
            case HyperParameterKind.Integer:
                if (value == null)
                {
                    if (!hp.Nullable) throw new ArgumentException($"{Name}: {hp.Name} cannot be null.", hp.Name);
                    group.SetNull(hp.Name);
                }
                else group[hp.Name] = ToDouble(hp, value);
                break;
            case HyperParameterKind.Pair:
                switch (value)
                {
                    case ValueTuple<double, double> p:
                        group[hp.Keys[0]] = p.Item1;
                        group[hp.Keys[1]] = p.Item2;
                        break;
                    case System.Collections.IEnumerable e when e.Cast<object?>().ToList() is { Count: 2 } items
                                                               && items.All(x => x is double or float or long or int):
                        group[hp.Keys[0]] = Convert.ToDouble(items[0]);
                        group[hp.Keys[1]] = Convert.ToDouble(items[1]);
                        break;
                    default:
                        throw new ArgumentException($"{Name}: {hp.Name} must be a pair of numbers, got {Describe(value)}.", hp.Name);
                }
                break;
            case HyperParameterKind.Flag:
                group.SetOption(hp.Name, value as bool? ?? throw new ArgumentException(
                    $"{Name}: {hp.Name} must be true or false, got {Describe(value)}.", hp.Name));
                break;
            case HyperParameterKind.Text:
                if (value is not (null or string))
                    throw new ArgumentException($"{Name}: {hp.Name} must be a string or null, got {Describe(value)}.", hp.Name);
                group.SetOption(hp.Name, value);
                break;
        }
    }

    /// <summary>Copies every default that <paramref name="group"/> lacks (PyTorch's <c>setdefault</c>).</summary>
    internal void FillDefaults(ParamGroup group, ParamGroup defaults)
    {
        foreach (var hp in HyperParameters)
        {
            foreach (var key in hp.Keys)
                if (defaults.TryGet(key, out var v)) group.SetDefault(key, v);
            if (hp.Kind is HyperParameterKind.Flag or HyperParameterKind.Text && defaults.HasOption(hp.Name))
                group.SetDefaultOption(hp.Name, defaults.Options[hp.Name]);
        }
        // Keys outside the schema (e.g. a custom optimizer's) are copied as well.
        foreach (var (k, v) in defaults.Hyperparameters) group.SetDefault(k, v);
        foreach (var (k, v) in defaults.Options) group.SetDefaultOption(k, v);
    }

    /// <summary>Throws ArgumentOutOfRangeException for the first invalid value in <paramref name="group"/>.</summary>
    internal void Validate(ParamGroup group, string where)
    {
        foreach (var hp in HyperParameters)
            if (hp.Check(group) is { } error)
                throw new ArgumentOutOfRangeException(hp.Name, $"{where}: {error}.");
    }

    private double ToDouble(HyperParameter hp, object value) => value switch
    {
        double d => d,
        float f => f,
        long l => l,
        int i => i,
        _ => throw new ArgumentException($"{Name}: {hp.Name} must be a number, got {Describe(value)}.", hp.Name),
    };

    private static string Describe(object? v) => v == null ? "null" : $"{v} ({v.GetType().Name})";
}
