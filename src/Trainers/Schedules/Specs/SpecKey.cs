using System.Globalization;
using System.Reflection;
using System.Text;

namespace MLLrSched.Schedules;

/// <summary>How a JSON value becomes a parameter's value.</summary>
internal enum SpecKind
{
    Double,
    Long,
    Int,
    Bool,
    String,
    Enum,
    LongList,
    DoubleList,
    GroupValues,
    Expression,
    ExpressionList,
    Schedule,
    ScheduleList,
}

/// <summary>
/// One JSON key of a schedule type, declared by a parameter of its public constructor (or factory method): the
/// key is the parameter's <see cref="SpecNameAttribute"/> or the snake_case of its name, the default is its C#
/// default, and it is required when it has none.
/// </summary>
internal sealed class SpecKey
{
    private SpecKey(ParameterInfo parameter, string name, SpecKind kind, Type valueType, bool nullable)
    {
        Parameter = parameter;
        Name = name;
        Kind = kind;
        ValueType = valueType;
        IsNullable = nullable;
    }

    /// <summary>The parameter that declares the key.</summary>
    public ParameterInfo Parameter { get; }

    /// <summary>The JSON key (PyTorch's or Hugging Face's argument name).</summary>
    public string Name { get; }

    /// <summary>How the JSON value is read.</summary>
    public SpecKind Kind { get; }

    /// <summary>The parameter type without <see cref="Nullable{T}"/> (the enum type for <see cref="SpecKind.Enum"/>).</summary>
    public Type ValueType { get; }

    /// <summary>True for a <see cref="Nullable{T}"/> parameter.</summary>
    public bool IsNullable { get; }

    /// <summary>True when the key must be given: the parameter has no default.</summary>
    public bool Required => !Parameter.HasDefaultValue;

    /// <summary>The C# default passed when the key is absent (null for a nullable or reference type).</summary>
    public object? CSharpDefault => Parameter.HasDefaultValue
        ? Kind == SpecKind.Enum && Parameter.DefaultValue is { } d ? Enum.ToObject(ValueType, d) : Parameter.DefaultValue
        : null;

    /// <summary>The default as documented: the <see cref="SpecDefaultAttribute"/> where the C# default (null) stands
    /// for a number, else the C# default.</summary>
    public object? DocumentedDefault => Parameter.GetCustomAttribute<SpecDefaultAttribute>()?.Value ?? CSharpDefault;

    /// <summary>The variables of an expression key.</summary>
    public SpecExpressionAttribute? Expression => Parameter.GetCustomAttribute<SpecExpressionAttribute>();

    /// <summary>The JSON names of an enum key's members, in declaration order, with the values they stand for.</summary>
    public IReadOnlyList<(string Name, object Value)> EnumNames => Kind != SpecKind.Enum
        ? Array.Empty<(string, object)>()
        : ValueType.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (f.GetCustomAttribute<SpecNameAttribute>()?.Name ?? SnakeCase(f.Name), f.GetValue(null)!))
            .ToArray();

    /// <summary>The JSON name of an enum value.</summary>
    public string EnumName(object value) => EnumNames.First(e => Equals(e.Value, value)).Name;

    /// <summary>Describes <paramref name="parameter"/>.</summary>
    /// <exception cref="NotSupportedException">The parameter's type has no JSON form.</exception>
    public static SpecKey Of(ParameterInfo parameter)
    {
        var type = parameter.ParameterType;
        var underlying = Nullable.GetUnderlyingType(type);
        var t = underlying ?? type;
        var name = parameter.GetCustomAttribute<SpecNameAttribute>()?.Name ?? SnakeCase(parameter.Name!);
        var expression = parameter.GetCustomAttribute<SpecExpressionAttribute>() != null;
        SpecKind kind;
        if (t == typeof(double)) kind = SpecKind.Double;
        else if (t == typeof(long)) kind = SpecKind.Long;
        else if (t == typeof(int)) kind = SpecKind.Int;
        else if (t == typeof(bool)) kind = SpecKind.Bool;
        else if (t == typeof(string)) kind = SpecKind.String;
        else if (t.IsEnum) kind = SpecKind.Enum;
        else if (t == typeof(GroupValues)) kind = SpecKind.GroupValues;
        else if (expression && t == typeof(Func<double, double>)) kind = SpecKind.Expression;
        else if (expression && t.IsAssignableFrom(typeof(Func<double, double>[]))) kind = SpecKind.ExpressionList;
        else if (t == typeof(Schedule)) kind = SpecKind.Schedule;
        else if (t.IsAssignableFrom(typeof(Schedule[]))) kind = SpecKind.ScheduleList;
        else if (t.IsAssignableFrom(typeof(long[]))) kind = SpecKind.LongList;
        else if (t.IsAssignableFrom(typeof(double[]))) kind = SpecKind.DoubleList;
        else
            throw new NotSupportedException(
                $"Parameter '{parameter.Name}' of {parameter.Member.DeclaringType?.Name}.{parameter.Member.Name} has type {type.Name}, which a JSON spec cannot give " +
                "(a Func<double, double> needs [SpecExpression]).");
        return new SpecKey(parameter, name, kind, t, underlying != null);
    }

    /// <summary>PyTorch's spelling of a .NET name: <c>stepSize</c> → <c>step_size</c>, <c>ExpRange</c> → <c>exp_range</c>,
    /// <c>Triangular2</c> → <c>triangular2</c>.</summary>
    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1])
                                             || (char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]))))
                sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>A default as the docs show it: numbers as short as they round-trip (<c>1e-8</c>, <c>2000</c>),
    /// enum members and strings as JSON strings, "—" for none.</summary>
    public string FormatDefault()
    {
        if (Required) return "required";
        return DocumentedDefault switch
        {
            null => "—",
            bool b => b ? "true" : "false",
            double d => FormatNumber(d),
            long or int => Convert.ToString(DocumentedDefault, CultureInfo.InvariantCulture)!,
            string s => $"`\"{s}\"`",
            Enum e => $"`\"{EnumName(e)}\"`",
            var o => o.ToString() ?? "—",
        };
    }

    /// <summary>The plain form; a small fraction where the plain form is long (<c>1/3</c>); the exponent form where it is
    /// clearly shorter (<c>1e4</c>, <c>1e-8</c>, but <c>2000</c>).</summary>
    public static string FormatNumber(double d)
    {
        var plain = d.ToString("R", CultureInfo.InvariantCulture);
        if (plain.Contains('E')) plain = decimal.TryParse(plain, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) ? m.ToString(CultureInfo.InvariantCulture) : plain;
        for (var q = 2; q <= 12 && plain.Length > 8; q++)
        {
            var p = Math.Round(d * q);
            if (Math.Abs(p) < 100 && p / q == d) return $"{p.ToString(CultureInfo.InvariantCulture)}/{q}";
        }
        var exp = d.ToString("0.###############e+0", CultureInfo.InvariantCulture).Replace("e+", "e");
        return exp.Length + 1 < plain.Length && double.Parse(exp, CultureInfo.InvariantCulture) == d ? exp : plain;
    }
}
