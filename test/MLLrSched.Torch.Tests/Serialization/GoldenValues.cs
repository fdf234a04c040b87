using System.Globalization;
using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Serialization;

namespace MLLrSched.Torch.Tests.Serialization;

/// <summary>
/// The JSON encoding tools/golden/serialization.py uses for values (see its docstring): compares a loaded
/// value against Python's description of it, and describes a C# value for Python's verify mode.
/// </summary>
internal static class GoldenValues
{
    public static string Folder => Golden.NativeGolden.Set.PathOf("serialization");

    public static string Fixture(string name) => Path.Combine(Folder, name);

    public static JsonElement Expectations(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixture(name + ".json")));
        return doc.RootElement.Clone();
    }

    // ------------------------------------------------------------------ compare (Python → C#)

    public static void AssertMatches(JsonElement expected, object? actual, string path = "root")
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Null:
                Assert.IsNull(actual, $"{path}: expected None");
                return;
            case JsonValueKind.True or JsonValueKind.False:
                Assert.IsInstanceOfType<bool>(actual, $"{path}: expected bool");
                Assert.AreEqual(expected.GetBoolean(), (bool)actual!, path);
                return;
            case JsonValueKind.String:
                Assert.IsInstanceOfType<string>(actual, $"{path}: expected str");
                Assert.AreEqual(expected.GetString(), (string)actual!, path);
                return;
            case JsonValueKind.Number:
                Assert.IsInstanceOfType<long>(actual, $"{path}: expected int, found {actual?.GetType().Name}");
                Assert.AreEqual(expected.GetInt64(), (long)actual!, path);
                return;
            case JsonValueKind.Array:
                Assert.IsInstanceOfType<List<object?>>(actual, $"{path}: expected list, found {actual?.GetType().Name}");
                var list = (List<object?>)actual!;
                Assert.AreEqual(expected.GetArrayLength(), list.Count, $"{path}: list length");
                var i = 0;
                foreach (var e in expected.EnumerateArray()) AssertMatches(e, list[i], $"{path}[{i++}]");
                return;
        }
        if (expected.TryGetProperty("float", out var f))
        {
            Assert.IsInstanceOfType<double>(actual, $"{path}: expected float, found {actual?.GetType().Name}");
            AssertSameFloat(f, (double)actual!, path);
        }
        else if (expected.TryGetProperty("tuple", out var items))
        {
            Assert.IsInstanceOfType<TorchTuple>(actual, $"{path}: expected tuple, found {actual?.GetType().Name}");
            var tuple = (TorchTuple)actual!;
            Assert.AreEqual(items.GetArrayLength(), tuple.Count, $"{path}: tuple length");
            var i = 0;
            foreach (var e in items.EnumerateArray()) AssertMatches(e, tuple[i], $"{path}[{i++}]");
        }
        else if (expected.TryGetProperty("dict", out var entries))
        {
            Assert.IsInstanceOfType<TorchDict>(actual, $"{path}: expected dict, found {actual?.GetType().Name}");
            var dict = (TorchDict)actual!;
            var keys = entries.EnumerateArray().Select(kv => Key(kv[0])).ToList();
            CollectionAssert.AreEqual(keys, dict.Keys.ToList(), $"{path}: keys (in order)");
            Assert.AreEqual(expected.GetProperty("ordered").GetBoolean(), dict.IsOrderedDict, $"{path}: OrderedDict or dict");
            foreach (var kv in entries.EnumerateArray())
            {
                var key = Key(kv[0]);
                AssertMatches(kv[1], dict.ContainsKey(key) ? (key is string s ? dict[s] : dict[(long)key]) : null,
                    $"{path}[{TorchDict.FormatKey(key)}]");
            }
        }
        else if (expected.TryGetProperty("tensor", out var spec))
        {
            Assert.IsInstanceOfType<Tensor>(actual, $"{path}: expected tensor, found {actual?.GetType().Name}");
            AssertTensor(spec, (Tensor)actual!, path);
        }
        else
        {
            Assert.Fail($"{path}: cannot read expectation {expected}");
        }
    }

    private static object Key(JsonElement k) => k.ValueKind == JsonValueKind.String ? k.GetString()! : k.GetInt64();

    public static void AssertTensor(JsonElement spec, Tensor t, string path)
    {
        Assert.AreEqual(spec.GetProperty("dtype").GetString(), t.DType.TorchName(), $"{path}: dtype");
        CollectionAssert.AreEqual(Longs(spec.GetProperty("shape")), t.Shape, $"{path}: shape");
        CollectionAssert.AreEqual(Longs(spec.GetProperty("strides")), t.Strides, $"{path}: strides");
        Assert.AreEqual(spec.GetProperty("storage_offset").GetInt64(), t.StorageOffset, $"{path}: storage offset");
        Assert.AreEqual(spec.GetProperty("requires_grad").GetBoolean(), t.RequiresGrad, $"{path}: requires_grad");
        var values = spec.GetProperty("values").EnumerateArray().ToList();
        Assert.AreEqual(values.Count, (int)t.NumberOfElements, $"{path}: element count");
        if (t.DType.IsFloatingPoint())
        {
            var got = t.ToArray<double>();
            for (var i = 0; i < got.Length; i++) AssertSameFloat(values[i], got[i], $"{path} value {i}");
        }
        else if (t.DType == DType.Bool)
        {
            var got = t.ToArray<bool>();
            for (var i = 0; i < got.Length; i++) Assert.AreEqual(values[i].GetBoolean(), got[i], $"{path} value {i}");
        }
        else
        {
            var got = t.ToArray<long>();
            for (var i = 0; i < got.Length; i++) Assert.AreEqual(values[i].GetInt64(), got[i], $"{path} value {i}");
        }
    }

    private static long[] Longs(JsonElement a) => a.EnumerateArray().Select(x => x.GetInt64()).ToArray();

    /// <summary>Bit-exact: the expected value is Python's repr of the same double (or nan/inf/-inf/-0).</summary>
    private static void AssertSameFloat(JsonElement expected, double actual, string path)
    {
        var want = EncodeFloat(actual);
        if (expected.ValueKind == JsonValueKind.String)
        {
            Assert.AreEqual(expected.GetString(), want as string ?? actual.ToString("R", CultureInfo.InvariantCulture), path);
            return;
        }
        Assert.AreEqual(BitConverter.DoubleToInt64Bits(expected.GetDouble()), BitConverter.DoubleToInt64Bits(actual),
            $"{path}: expected {expected.GetDouble():R}, found {actual:R}");
    }

    private static object EncodeFloat(double x) =>
        double.IsNaN(x) ? "nan"
        : double.IsPositiveInfinity(x) ? "inf"
        : double.IsNegativeInfinity(x) ? "-inf"
        : x == 0 && double.IsNegative(x) ? "-0"
        : x;

    // ------------------------------------------------------------------ describe (C# → Python)

    /// <summary>Writes the expectations file for serialization.py verify: the value and the groups of
    /// tensor paths that must share a storage after torch.load.</summary>
    public static void WriteExpectations(string path, object? value, IEnumerable<object[]>[]? shared = null, string? loadInto = null, bool weightsOnly = false)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WritePropertyName("value");
        Write(w, value);
        w.WriteStartArray("shared");
        foreach (var group in shared ?? [])
        {
            w.WriteStartArray();
            foreach (var p in group)
            {
                w.WriteStartArray();
                foreach (var k in p) WriteKey(w, k);
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }
        w.WriteEndArray();
        if (loadInto != null) w.WriteString("load_into", loadInto);
        if (weightsOnly) w.WriteBoolean("weights_only", true);
        w.WriteEndObject();
    }

    private static void WriteKey(Utf8JsonWriter w, object key)
    {
        if (key is string s) w.WriteStringValue(s);
        else w.WriteNumberValue(Convert.ToInt64(key));
    }

    private static void Write(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case bool b: w.WriteBooleanValue(b); break;
            case long or int: w.WriteNumberValue(Convert.ToInt64(v)); break;
            case double d:
                w.WriteStartObject();
                WriteFloat(w, "float", d);
                w.WriteEndObject();
                break;
            case string s: w.WriteStringValue(s); break;
            case List<object?> l:
                w.WriteStartArray();
                foreach (var x in l) Write(w, x);
                w.WriteEndArray();
                break;
            case TorchTuple t:
                w.WriteStartObject();
                w.WriteStartArray("tuple");
                foreach (var x in t) Write(w, x);
                w.WriteEndArray();
                w.WriteEndObject();
                break;
            case TorchDict d:
                w.WriteStartObject();
                w.WriteStartArray("dict");
                foreach (var (k, x) in d)
                {
                    w.WriteStartArray();
                    WriteKey(w, k);
                    Write(w, x);
                    w.WriteEndArray();
                }
                w.WriteEndArray();
                w.WriteBoolean("ordered", d.IsOrderedDict);
                w.WriteEndObject();
                break;
            case Tensor t:
                WriteTensor(w, t);
                break;
            default:
                throw new ArgumentException($"no JSON encoding for {v.GetType().Name}");
        }
    }

    private static void WriteTensor(Utf8JsonWriter w, Tensor t)
    {
        w.WriteStartObject();
        w.WriteStartObject("tensor");
        w.WriteString("dtype", t.DType.TorchName());
        w.WriteStartArray("shape");
        foreach (var s in t.Shape) w.WriteNumberValue(s);
        w.WriteEndArray();
        w.WriteStartArray("strides");
        foreach (var s in t.Strides) w.WriteNumberValue(s);
        w.WriteEndArray();
        w.WriteNumber("storage_offset", t.StorageOffset);
        w.WriteBoolean("requires_grad", false); // saved detached
        w.WriteStartArray("values");
        if (t.DType.IsFloatingPoint())
            foreach (var x in t.ToArray<double>()) WriteFloat(w, null, x);
        else if (t.DType == DType.Bool)
            foreach (var x in t.ToArray<bool>()) w.WriteBooleanValue(x);
        else
            foreach (var x in t.ToArray<long>()) w.WriteNumberValue(x);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteFloat(Utf8JsonWriter w, string? name, double x)
    {
        if (name != null) w.WritePropertyName(name);
        if (EncodeFloat(x) is string s) w.WriteStringValue(s);
        else w.WriteRawValue(x.ToString("R", CultureInfo.InvariantCulture)); // shortest round-trip, as Python's repr
    }

    // ------------------------------------------------------------------ shared storage

    /// <summary>
    /// True when writing through <paramref name="a"/> changes <paramref name="b"/>: the two share memory.
    /// Adds 1 to every element of <paramref name="a"/> and takes it away again.
    /// </summary>
    public static bool SharesMemory(Tensor a, Tensor b)
    {
        using var before = b.Clone();
        a.Add_(1);
        using var changed = b.Clone();
        a.Add_(-1);
        if (b.NumberOfElements == 0) return false;
        using var bd = before.To(DType.Float64);
        using var cd = changed.To(DType.Float64);
        var x = bd.ToArray<double>();
        var y = cd.ToArray<double>();
        return x.Zip(y).Any(p => BitConverter.DoubleToInt64Bits(p.First) != BitConverter.DoubleToInt64Bits(p.Second));
    }

    public static object? Lookup(object? root, IEnumerable<object> path)
    {
        var v = root;
        foreach (var k in path)
        {
            v = v switch
            {
                TorchDict d => k is string s ? d[s] : d[Convert.ToInt64(k)],
                List<object?> l => l[Convert.ToInt32(k)],
                TorchTuple t => t[Convert.ToInt32(k)],
                _ => throw new ArgumentException($"cannot index {v?.GetType().Name} with {k}"),
            };
        }
        return v;
    }

    /// <summary>The "shared" groups of an expectations file, as key paths.</summary>
    public static List<List<object[]>> SharedGroups(JsonElement expectations) =>
        expectations.GetProperty("shared").EnumerateArray()
            .Select(g => g.EnumerateArray().Select(p => p.EnumerateArray().Select(Key).ToArray()).ToList())
            .ToList();

    /// <summary>Disposes every tensor in a loaded value.</summary>
    public static void DisposeAll(object? v)
    {
        switch (v)
        {
            case Tensor t: t.Dispose(); break;
            case TorchDict d: foreach (var x in d.Values) DisposeAll(x); break;
            case List<object?> l: foreach (var x in l) DisposeAll(x); break;
            case TorchTuple t: foreach (var x in t) DisposeAll(x); break;
        }
    }
}
