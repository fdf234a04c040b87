namespace MLLrSched.Schedules;

/// <summary>
/// The JSON name of a constructor parameter or an enum member, where it is not the snake_case of the C# name
/// (PyTorch's <c>T_max</c> for <c>tMax</c>, Hugging Face's <c>1-sqrt</c> for <c>WsdShape.OneMinusSqrt</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Field)]
public sealed class SpecNameAttribute(string name) : Attribute
{
    /// <summary>The JSON name.</summary>
    public string Name { get; } = name;
}

/// <summary>
/// The effective default of a nullable parameter whose C# default (null) stands for a number the constructor
/// substitutes — a per-group <see cref="GroupValues"/> cannot have a constant default. Give the same constant the
/// constructor uses, so that it is written once: <c>[SpecDefault(DefaultBaseMomentum)] GroupValues? baseMomentum = null</c>
/// with <c>baseMomentum ?? DefaultBaseMomentum</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class SpecDefaultAttribute(double value) : Attribute
{
    /// <summary>The default.</summary>
    public double Value { get; } = value;
}

/// <summary>
/// Marks a <c>Func&lt;double, double&gt;</c> parameter (or a list of them) as a <see cref="ScheduleExpression"/> in
/// JSON: a string such as <c>"0.95 ** epoch"</c> in one of <see cref="Variables"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class SpecExpressionAttribute(params string[] variables) : Attribute
{
    /// <summary>The accepted variable names, the first being the one messages suggest.</summary>
    public IReadOnlyList<string> Variables { get; } = variables;

    /// <summary>An example for the message when the key is missing.</summary>
    public string? Example { get; init; }
}
