using System.Globalization;

namespace MLLrSched.Backend.Persistence;

/// <summary>Conversions and descriptions for values of the file's value model.</summary>
internal static class TorchValues
{
    /// <summary>Python's name for what a value is, for error messages.</summary>
    public static string Describe(object? value) => value switch
    {
        null => "None",
        bool b => b ? "bool True" : "bool False",
        long l => $"int {l.ToString(CultureInfo.InvariantCulture)}",
        double d => $"float {d.ToString("R", CultureInfo.InvariantCulture)}",
        string s => s.Length <= 40 ? $"str '{s}'" : $"str of {s.Length} characters",
        ITensor t => DescribeTensor(t),
        TorchDict d => d.ToString(),
        TorchTuple t => t.ToString(),
        List<object?> l => $"list of {l.Count} items",
        PickledTensor => "a tensor",
        PickledStorage => "a tensor storage",
        PickledGlobal g => $"the Python name {g}",
        PickledStorageType st => $"the storage class {st.Module}.{st.Name}",
        _ => value.GetType().Name,
    };

    private static string DescribeTensor(ITensor t)
    {
        try
        {
            return $"tensor ({t.DType.TorchName()}, shape [{string.Join(", ", t.Shape)}])";
        }
        catch (ObjectDisposedException)
        {
            // Engines signal use after disposal this way; a message about a value must not throw.
            return "a disposed tensor";
        }
    }

    private static string PythonName(Type t)
    {
        var u = Nullable.GetUnderlyingType(t) ?? t;
        if (u == typeof(long) || u == typeof(int)) return "int";
        if (u == typeof(double) || u == typeof(float)) return "float";
        if (u == typeof(bool)) return "bool";
        if (u == typeof(string)) return "str";
        if (typeof(ITensor).IsAssignableFrom(u)) return "tensor";
        if (u == typeof(TorchDict)) return "dict";
        if (u == typeof(TorchTuple)) return "tuple";
        if (u == typeof(List<object?>)) return "list";
        return u.Name;
    }

    /// <summary>
    /// <paramref name="value"/> as <typeparamref name="T"/>: exact type, or Python's numeric
    /// widening (int → float), or narrowing long → int when it fits. <paramref name="where"/> goes
    /// into the error message.
    /// </summary>
    public static T As<T>(object? value, string where)
    {
        if (value is T t) return t;
        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        if (value == null && (!typeof(T).IsValueType || Nullable.GetUnderlyingType(typeof(T)) != null))
            return default!;
        object? converted = (value, target) switch
        {
            (long l, var x) when x == typeof(double) => (double)l,
            (long l, var x) when x == typeof(float) => (float)l,
            (double d, var x) when x == typeof(float) => (float)d,
            (long l, var x) when x == typeof(int) && l is >= int.MinValue and <= int.MaxValue => (int)l,
            _ => null,
        };
        if (converted != null) return (T)converted;
        throw new InvalidCastException($"{where}: expected {PythonName(typeof(T))}, found {Describe(value)}.");
    }
}
