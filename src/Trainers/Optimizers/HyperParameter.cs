using System.Globalization;

namespace MLLrSched.Optimizers;

/// <summary>How a hyperparameter is written in JSON and in state dicts.</summary>
public enum HyperParameterKind
{
    /// <summary>A floating-point number (<c>lr</c>, <c>eps</c>, ...).</summary>
    Number,
    /// <summary>A whole number (<c>max_iter</c>, <c>history_size</c>); stored as a double in the group, exported as an integer.</summary>
    Integer,
    /// <summary>Two numbers written as a pair (<c>betas</c>), stored in the group under two keys (<c>beta1</c>, <c>beta2</c>).</summary>
    Pair,
    /// <summary>A boolean (<c>amsgrad</c>, <c>nesterov</c>, <c>maximize</c>); stored in <see cref="ParamGroup.Options"/>.</summary>
    Flag,
    /// <summary>A string or null (<c>line_search_fn</c>); stored in <see cref="ParamGroup.Options"/>.</summary>
    Text,
}

/// <summary>A closed, open or half-open interval a number must lie in, with its text for messages.</summary>
public readonly record struct ValidRange(double? Min, bool MinExclusive = false, double? Max = null, bool MaxExclusive = false)
{
    /// <summary>Any number (NaN excluded).</summary>
    public static readonly ValidRange Any = new(null);
    /// <summary>x ≥ 0.</summary>
    public static readonly ValidRange NonNegative = new(0);
    /// <summary>x &gt; 0.</summary>
    public static readonly ValidRange Positive = new(0, MinExclusive: true);
    /// <summary>0 ≤ x &lt; 1 (Adam's betas).</summary>
    public static readonly ValidRange UnitHalfOpen = new(0, false, 1, true);
    /// <summary>0 ≤ x ≤ 1.</summary>
    public static readonly ValidRange Unit = new(0, false, 1, false);

    /// <summary>True when <paramref name="v"/> lies in the range (NaN never does).</summary>
    public bool Contains(double v)
    {
        if (double.IsNaN(v)) return false;
        if (Min is { } lo && (MinExclusive ? v <= lo : v < lo)) return false;
        if (Max is { } hi && (MaxExclusive ? v >= hi : v > hi)) return false;
        return true;
    }

    /// <summary>The range as a message fragment: "≥ 0", "&gt; 0", "in [0, 1)".</summary>
    public override string ToString()
    {
        if (Min is { } lo && Max is { } hi)
            return $"in {(MinExclusive ? "(" : "[")}{Fmt(lo)}, {Fmt(hi)}{(MaxExclusive ? ")" : "]")}";
        if (Min is { } l) return $"{(MinExclusive ? ">" : "≥")} {Fmt(l)}";
        if (Max is { } h) return $"{(MaxExclusive ? "<" : "≤")} {Fmt(h)}";
        return "a number";
    }

    internal static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e");
}

/// <summary>
/// One constructor argument of an optimizer as PyTorch names it: its kind, default, valid range and the
/// <see cref="ParamGroup"/> keys it is stored under. An <see cref="OptimizerSchema"/> lists them; the base
/// <see cref="Optimizer"/> uses it to fill group defaults, validate, read JSON and write state dicts.
/// </summary>
public sealed class HyperParameter
{
    private HyperParameter(string name, HyperParameterKind kind, IReadOnlyList<string> keys, object? defaultValue,
        bool required, bool nullable, ValidRange range, ValidRange secondRange, bool settable, string? description)
    {
        Name = name;
        Kind = kind;
        Keys = keys;
        Default = defaultValue;
        Required = required;
        Nullable = nullable;
        Range = range;
        SecondRange = secondRange;
        Settable = settable;
        Description = description;
    }

    /// <summary>PyTorch's argument name, also the JSON key and the state-dict key (<c>betas</c>).</summary>
    public string Name { get; }
    /// <summary>How the value is written.</summary>
    public HyperParameterKind Kind { get; }
    /// <summary>The <see cref="ParamGroup"/> keys: the name itself, or two keys for a pair (<c>beta1</c>, <c>beta2</c>).</summary>
    public IReadOnlyList<string> Keys { get; }
    /// <summary>The default: a double, a long, a (double, double) pair, a bool, a string, or null.</summary>
    public object? Default { get; }
    /// <summary>True when the value has no default and must be given (SGD's <c>lr</c>).</summary>
    public bool Required { get; }
    /// <summary>True when null (PyTorch's <c>None</c>) is allowed; for numbers, null leaves the key out of the group.</summary>
    public bool Nullable { get; }
    /// <summary>Valid range of the number (the first component of a pair).</summary>
    public ValidRange Range { get; }
    /// <summary>Valid range of a pair's second component.</summary>
    public ValidRange SecondRange { get; }
    /// <summary>False for values the optimizer keeps in the group itself (timm LAMB's <c>step</c>): exported, never read from JSON.</summary>
    public bool Settable { get; }
    /// <summary>One line saying what the setting does.</summary>
    public string? Description { get; }

    /// <summary>A floating-point number.</summary>
    public static HyperParameter Number(string name, double? defaultValue, ValidRange range, bool required = false,
        bool nullable = false, string? description = null) =>
        new(name, HyperParameterKind.Number, new[] { name }, defaultValue, required, nullable, range, ValidRange.Any, true, description);

    /// <summary>A whole number.</summary>
    public static HyperParameter Integer(string name, long? defaultValue, ValidRange range, bool nullable = false,
        string? description = null, bool settable = true) =>
        new(name, HyperParameterKind.Integer, new[] { name }, defaultValue, false, nullable, range, ValidRange.Any, settable, description);

    /// <summary>A pair of numbers stored under two group keys.</summary>
    public static HyperParameter Pair(string name, string key1, string key2, (double, double) defaultValue,
        ValidRange first, ValidRange second, string? description = null) =>
        new(name, HyperParameterKind.Pair, new[] { key1, key2 }, defaultValue, false, false, first, second, true, description);

    /// <summary>A boolean.</summary>
    public static HyperParameter Flag(string name, bool defaultValue, string? description = null) =>
        new(name, HyperParameterKind.Flag, new[] { name }, defaultValue, false, false, ValidRange.Any, ValidRange.Any, true, description);

    /// <summary>A string (or null) out of <paramref name="allowed"/>.</summary>
    public static HyperParameter Text(string name, string? defaultValue, IReadOnlyList<string> allowed, string? description = null) =>
        new(name, HyperParameterKind.Text, new[] { name }, defaultValue, false, true, ValidRange.Any, ValidRange.Any, true, description)
        { Allowed = allowed };

    /// <summary>For <see cref="HyperParameterKind.Text"/>: the allowed strings (null is allowed too).</summary>
    public IReadOnlyList<string> Allowed { get; private init; } = Array.Empty<string>();

    /// <summary>The PyTorch version that added the argument (NAdam's <c>maximize</c>: <see cref="TorchSemantics.Torch2"/>),
    /// or null when every supported version has it. Under older semantics it is refused when set to anything but its
    /// default, and left out of <c>param_groups</c>, as that PyTorch has no such key.</summary>
    public TorchSemantics? AddedIn { get; private init; }

    /// <summary>The PyTorch version from which the argument has its <see cref="Default"/> (SGD's <c>lr</c>:
    /// <see cref="TorchSemantics.Torch2"/>); under older semantics it is required. Null when the default does not depend on
    /// the version.</summary>
    public TorchSemantics? DefaultAddedIn { get; private init; }

    /// <summary>This argument, marked as added in <paramref name="version"/> (see <see cref="AddedIn"/>).</summary>
    public HyperParameter Since(TorchSemantics version) => Copy(version, DefaultAddedIn);

    /// <summary>This argument, required before <paramref name="version"/> and defaulting to <see cref="Default"/> from it
    /// on (see <see cref="DefaultAddedIn"/>).</summary>
    public HyperParameter DefaultSince(TorchSemantics version) =>
        Default == null ? throw new InvalidOperationException($"{Name} has no default to add in {version}.") : Copy(AddedIn, version);

    private HyperParameter Copy(TorchSemantics? addedIn, TorchSemantics? defaultAddedIn) =>
        new(Name, Kind, Keys, Default, Required, Nullable, Range, SecondRange, Settable, Description)
        {
            Allowed = Allowed, AddedIn = addedIn, DefaultAddedIn = defaultAddedIn,
        };

    /// <summary>True when the argument's default does not depend on the version, so that
    /// <see cref="OptimizerSchema.MakeDefaults"/> can fill it in before the semantics are known.</summary>
    internal bool HasFixedDefault => DefaultAddedIn == null;

    /// <summary>True when <paramref name="group"/> holds the default value (or nothing) for this argument.</summary>
    internal bool IsDefaultIn(ParamGroup group) => Kind switch
    {
        HyperParameterKind.Flag or HyperParameterKind.Text => !group.Options.TryGetValue(Name, out var o) || Equals(o, Default),
        HyperParameterKind.Pair => Default is ValueTuple<double, double> p
                                   && (!group.TryGet(Keys[0], out var a) || a.Equals(p.Item1))
                                   && (!group.TryGet(Keys[1], out var b) || b.Equals(p.Item2)),
        _ => !group.TryGet(Name, out var v) ? Default == null : Default switch
        {
            double d => v.Equals(d),
            long l => v.Equals((double)l),
            _ => false,
        },
    };

    /// <summary>Describes the default for docs and messages.</summary>
    public string DefaultText => Required ? "required" : DefaultAddedIn is { } since
        ? $"required before {TorchBehaviour.Format(since)}, then {FixedDefaultText}"
        : FixedDefaultText;

    internal string FixedDefaultText => Default switch
    {
        null => "null",
        double d => ValidRange.Fmt(d),
        long l => l.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        ValueTuple<double, double> p => $"[{ValidRange.Fmt(p.Item1)}, {ValidRange.Fmt(p.Item2)}]",
        string s => $"\"{s}\"",
        _ => Default.ToString() ?? "",
    };

    /// <summary>The error text for the value stored in <paramref name="group"/>, or null when it is valid.</summary>
    internal string? Check(ParamGroup group)
    {
        switch (Kind)
        {
            case HyperParameterKind.Number:
            case HyperParameterKind.Integer:
                if (!group.TryGet(Name, out var v))
                    return Nullable || !Settable ? null : $"{Name} is missing";
                if (!Range.Contains(v)) return $"{Name} must be {Range}, got {ValidRange.Fmt(v)}";
                if (Kind == HyperParameterKind.Integer && v != Math.Floor(v))
                    return $"{Name} must be a whole number, got {ValidRange.Fmt(v)}";
                return null;
            case HyperParameterKind.Pair:
                if (!group.TryGet(Keys[0], out var a) || !group.TryGet(Keys[1], out var b)) return $"{Name} is missing";
                if (!Range.Contains(a)) return $"{Name}[0] must be {Range}, got {ValidRange.Fmt(a)}";
                if (!SecondRange.Contains(b)) return $"{Name}[1] must be {SecondRange}, got {ValidRange.Fmt(b)}";
                return null;
            case HyperParameterKind.Flag:
                return group.Options.TryGetValue(Name, out var f) && f is bool ? null : $"{Name} must be true or false";
            case HyperParameterKind.Text:
                if (!group.Options.TryGetValue(Name, out var t) || t == null) return null;
                return t is string s && Allowed.Contains(s) ? null
                    : $"{Name} must be null or one of {string.Join(", ", Allowed.Select(x => $"'{x}'"))}, got '{t}'";
        }
        return null;
    }

    /// <summary>Writes the default into <paramref name="group"/> where it has no value yet.</summary>
    internal void ApplyDefault(ParamGroup group)
    {
        switch (Kind)
        {
            case HyperParameterKind.Number when Default is double d:
                group.SetDefault(Name, d);
                break;
            case HyperParameterKind.Integer when Default is long l:
                group.SetDefault(Name, l);
                break;
            case HyperParameterKind.Pair when Default is ValueTuple<double, double> p:
                group.SetDefault(Keys[0], p.Item1);
                group.SetDefault(Keys[1], p.Item2);
                break;
            case HyperParameterKind.Flag when Default is bool b:
                group.SetDefaultOption(Name, b);
                break;
            case HyperParameterKind.Text:
                group.SetDefaultOption(Name, Default);
                break;
        }
    }
}
