using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using MLLrSched.Specs;

namespace MLLrSched.Schedules;

/// <summary>
/// Binds a JSON spec to a public constructor or static factory method by reflection, so that a schedule's keys,
/// defaults and required-ness are declared once, by its C# signature (see <see cref="SpecKey"/>). Types: numbers
/// (double, long, int), bool, string, their nullable forms, enums (JSON names from <see cref="SpecNameAttribute"/>
/// or the members' snake_case), number lists, <see cref="GroupValues"/> (a number or a per-group list),
/// expressions (<see cref="SpecExpressionAttribute"/>) and nested schedule specs.
/// </summary>
internal sealed class SpecBinder
{
    private readonly MethodBase _target;

    private SpecBinder(MethodBase target)
    {
        _target = target;
        Keys = target.GetParameters().Select(SpecKey.Of).ToArray();
    }

    /// <summary>The keys, in parameter order.</summary>
    public IReadOnlyList<SpecKey> Keys { get; }

    /// <summary>The constructor or factory method bound.</summary>
    public MethodBase Target => _target;

    /// <summary>Binds <typeparamref name="T"/>'s only public constructor.</summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> has more than one public constructor.</exception>
    public static SpecBinder ForConstructor<T>() where T : Schedule
    {
        var ctors = typeof(T).GetConstructors();
        if (ctors.Length != 1)
            throw new InvalidOperationException($"{typeof(T).Name} has {ctors.Length} public constructors; a spec binds to exactly one.");
        return new SpecBinder(ctors[0]);
    }

    /// <summary>Binds a static factory method.</summary>
    public static SpecBinder ForFactory(Delegate factory)
    {
        if (!factory.Method.IsStatic || factory.Target != null)
            throw new InvalidOperationException($"{factory.Method.Name}: a spec binds to a static method.");
        return new SpecBinder(factory.Method);
    }

    /// <summary>Reads every key from <paramref name="r"/> and calls the constructor or factory.</summary>
    /// <param name="r">The spec.</param>
    /// <param name="nested">Builds a nested schedule spec (SequentialLR's and ChainedScheduler's <c>schedulers</c>).</param>
    /// <exception cref="SpecException">A required key is missing or a value has the wrong type.</exception>
    /// <exception cref="ArgumentException">The constructor rejects a value (its message names the setting).</exception>
    public Schedule Invoke(SpecReader r, Func<JsonElement, Schedule> nested)
    {
        var args = Arguments(r, nested);
        try
        {
            return (Schedule)(_target is ConstructorInfo c ? c.Invoke(args) : _target.Invoke(null, args)!);
        }
        catch (TargetInvocationException e) when (e.InnerException != null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    /// <summary>The arguments <see cref="Invoke"/> passes: each key's value, or its C# default when absent.</summary>
    public object?[] Arguments(SpecReader r, Func<JsonElement, Schedule> nested) =>
        Keys.Select(k => r.Has(k.Name) ? Read(r, k, nested) : k.Required ? throw Missing(r, k) : k.CSharpDefault).ToArray();

    private static object? Read(SpecReader r, SpecKey k, Func<JsonElement, Schedule> nested)
    {
        var key = k.Name;
        switch (k.Kind)
        {
            case SpecKind.Double: return r.GetDouble(key, 0);
            case SpecKind.Long: return r.GetLong(key, 0);
            case SpecKind.Int: return (int)r.GetLong(key, 0, int.MinValue, int.MaxValue);
            case SpecKind.Bool: return r.GetBool(key, false);
            case SpecKind.String: return r.GetString(key, "");
            case SpecKind.Enum:
                var names = k.EnumNames;
                var name = r.GetString(key, names[0].Name, names.Select(n => n.Name).ToArray());
                return names.First(n => n.Name == name).Value;
            case SpecKind.LongList: return r.GetLongArray(key, Array.Empty<long>());
            case SpecKind.DoubleList: return r.GetDoubleArray(key, Array.Empty<double>());
            case SpecKind.GroupValues:
                return r.GetElement(key)!.Value.ValueKind == JsonValueKind.Array
                    ? new GroupValues(r.GetDoubleArrayOrNull(key)!)
                    : new GroupValues(r.GetDouble(key, 0));
            case SpecKind.Expression: return Expressions(r, k, list: false)[0];
            case SpecKind.ExpressionList: return Expressions(r, k, list: true);
            case SpecKind.Schedule:
                var e = r.GetElement(key)!.Value;
                if (e.ValueKind != JsonValueKind.Object)
                    throw new SpecException($"Invalid '{key}' in {r.Context}: expected a schedule spec (a JSON object), got {e.GetRawText()}.", key);
                return nested(e);
            case SpecKind.ScheduleList: return r.GetObjectArray(key).Select(nested).ToArray();
            default: throw new InvalidOperationException($"unhandled {k.Kind}");
        }
    }

    private static Func<double, double>[] Expressions(SpecReader r, SpecKey k, bool list)
    {
        var key = k.Name;
        var e = r.GetElement(key)!.Value;
        static bool Scalar(JsonElement x) => x.ValueKind is JsonValueKind.String or JsonValueKind.Number;
        static string Text(JsonElement x) => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText();
        string[] texts = e switch
        {
            _ when Scalar(e) => new[] { Text(e) },
            { ValueKind: JsonValueKind.Array } when list && e.EnumerateArray().All(Scalar) => e.EnumerateArray().Select(Text).ToArray(),
            _ => throw new SpecException(
                $"Invalid '{key}' in {r.Context}: expected an expression string{(list ? " or a list of them" : "")}, got {e.GetRawText()}.", key),
        };
        try
        {
            return texts.Select(t => ScheduleExpression.Parse(t, k.Expression!.Variables.ToArray(), key).ToFunc()).ToArray();
        }
        catch (FormatException fe)
        {
            throw new SpecException($"Invalid '{key}' in {r.Context}: {fe.Message}", key);
        }
    }

    private static SpecException Missing(SpecReader r, SpecKey k)
    {
        if (k.Expression is { Example: { } example } x)
            return new SpecException(
                $"Missing '{k.Name}' in {r.Context}: give an expression in '{x.Variables[0]}' such as \"{example}\"" +
                (k.Kind == SpecKind.ExpressionList ? ", or a list of them (one per parameter group)." : "."), k.Name);
        var present = r.Json.EnumerateObject().Select(p => p.Name).Where(n => n != "type");
        var hint = present.Where(n => SpecNames.Closest(n, new[] { k.Name }) != null).Select(n => $" (found '{n}' — a typo?)").FirstOrDefault() ?? "";
        return new SpecException($"Missing '{k.Name}' in {r.Context}: it is required{hint}.", k.Name);
    }
}
