namespace MLLrSched.Specs.Options;

/// <summary>
/// Declares a setting once, on the property that holds it: its JSON name, what it does and its valid range. The C#
/// default is the property's initial value. JSON binding (<see cref="OptionBinder.Read{T}"/>), validation
/// (<see cref="OptionBinder.Validate"/>), the ML.NET mapping and the option tables in docs/ all come from this one place.
/// </summary>
/// <remarks>
/// <para>Property types: bool, int, long, double, string, enums (JSON names are the members' snake_case:
/// <c>ValLoss</c> → <c>"val_loss"</c>), <see cref="Backend.Device"/> (<c>"cpu"</c>, <c>"cuda:1"</c>), JSON specs
/// (<see cref="System.Text.Json.JsonElement"/>), arrays of numbers, their nullable forms (null = off), and sections:
/// a record whose properties carry their own attributes. A nullable section is off until the JSON names it
/// (<c>"ema": {}</c> turns the EMA on with its defaults).</para>
/// <para>A dotted <see cref="Json"/> name such as <c>clip_grad_norm.max_norm</c> lives in a JSON object of the parent;
/// with <see cref="Shorthand"/> the object may be given as just this member's value (<c>"clip_grad_norm": 1.0</c>).</para>
/// </remarks>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string json, string help) : Attribute
{
    /// <summary>The JSON key (PyTorch's name where PyTorch has one).</summary>
    public string Json { get; } = json;
    /// <summary>One sentence: what the setting does.</summary>
    public string Help { get; } = help;
    /// <summary>Smallest valid value (NaN = unbounded).</summary>
    public double Min { get; init; } = double.NaN;
    /// <summary>Largest valid value (NaN = unbounded).</summary>
    public double Max { get; init; } = double.NaN;
    /// <summary>Whether <see cref="Min"/> itself is invalid.</summary>
    public bool MinExclusive { get; init; }
    /// <summary>Whether <see cref="Max"/> itself is invalid.</summary>
    public bool MaxExclusive { get; init; }
    /// <summary>For a string: the values allowed.</summary>
    public string[]? OneOf { get; init; }
    /// <summary>For a dotted name: a scalar in place of the parent object sets this member.</summary>
    public bool Shorthand { get; init; }
    /// <summary>For a dotted name of a nullable number: the value taken when the parent object is given without this
    /// key (NaN = the key is then required).</summary>
    public double WhenGroupGiven { get; init; } = double.NaN;
}

/// <summary>A record of options whose JSON keys sit at the parent's level (they carry dotted or plain names of their
/// own), e.g. the clipping settings, which JSON spells <c>clip_grad_norm</c>, <c>clip_grad_value</c> and <c>adaptive_clip</c>.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionGroupAttribute : Attribute;
