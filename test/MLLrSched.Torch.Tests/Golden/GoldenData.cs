using System.Text.Json;
using MLLrSched.Backend;

namespace MLLrSched.Torch.Tests.Golden;

/// <summary>Loads golden JSON written by tools/golden/binding.py (the set of the shim's libtorch) and compares tensors against it.</summary>
internal static class GoldenData
{
    public static string PathOf(string file) => NativeGolden.Set.PathOf(Path.Combine("binding", file));

    public static JsonElement Load(string file)
    {
        var path = PathOf(file);
        if (!File.Exists(path)) Assert.Fail($"Golden file {path} is missing; run /usr/bin/python3 tools/golden/binding.py");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    public static IEnumerable<object[]> Cases(string file) =>
        Load(file).GetProperty("cases").EnumerateArray().Select((c, i) => new object[] { c.GetProperty("name").GetString()! + $"#{i}", c });

    public static double Num(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch { "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, _ => double.NaN }
        : e.GetDouble();

    /// <summary>A tensor from {"shape", "dtype", "data"}.</summary>
    public static Tensor Decode(JsonElement t)
    {
        var shape = t.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        var dtype = DTypeInfo.Parse(t.GetProperty("dtype").GetString()!);
        var data = t.GetProperty("data").EnumerateArray().ToArray();
        return dtype switch
        {
            DType.Float32 => Tensor.FromArray<float>(data.Select(x => (float)Num(x)).ToArray().AsSpan(), shape),
            DType.Float64 => Tensor.FromArray<double>(data.Select(Num).ToArray().AsSpan(), shape),
            DType.Int64 => Tensor.FromArray<long>(data.Select(x => x.GetInt64()).ToArray().AsSpan(), shape),
            DType.Int32 => Tensor.FromArray<int>(data.Select(x => x.GetInt32()).ToArray().AsSpan(), shape),
            DType.UInt8 => Tensor.FromArray<byte>(data.Select(x => x.GetByte()).ToArray().AsSpan(), shape),
            DType.Bool => Tensor.FromArray<bool>(data.Select(x => x.GetBoolean()).ToArray().AsSpan(), shape),
            _ => throw new NotSupportedException(dtype.ToString()),
        };
    }

    /// <summary>
    /// Asserts <paramref name="actual"/> matches the golden tensor: same shape and dtype, integers and bools
    /// exactly, floats within a tolerance that reflects only summation-order differences (the golden data was
    /// made with 1 thread; reductions may run on 2 here).
    /// </summary>
    public static void AssertClose(JsonElement expected, Tensor actual, string what, double? rtol = null, double? atol = null)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        var dtype = DTypeInfo.Parse(expected.GetProperty("dtype").GetString()!);
        CollectionAssert.AreEqual(shape, actual.Shape, $"{what}: shape");
        Assert.AreEqual(dtype, actual.DType, $"{what}: dtype");
        var data = expected.GetProperty("data").EnumerateArray().ToArray();
        if (dtype.IsFloatingPoint())
        {
            var rt = rtol ?? (dtype == DType.Float64 ? 1e-12 : 2e-6);
            var at = atol ?? (dtype == DType.Float64 ? 1e-12 : 1e-6);
            var got = actual.ToArray<double>();
            for (var i = 0; i < got.Length; i++)
            {
                var e = Num(data[i]);
                if (double.IsNaN(e)) { Assert.IsTrue(double.IsNaN(got[i]), $"{what}[{i}]: expected NaN, got {got[i]}"); continue; }
                if (double.IsInfinity(e)) { Assert.AreEqual(e, got[i], $"{what}[{i}]"); continue; }
                var tol = at + rt * Math.Abs(e);
                if (Math.Abs(got[i] - e) > tol)
                    Assert.Fail($"{what}[{i}]: expected {e:R}, got {got[i]:R} (|diff| {Math.Abs(got[i] - e):E2} > tol {tol:E2})");
            }
        }
        else if (dtype == DType.Bool)
            CollectionAssert.AreEqual(data.Select(x => x.GetBoolean()).ToArray(), actual.ToArray<bool>(), what);
        else
            CollectionAssert.AreEqual(data.Select(x => x.GetInt64()).ToArray(), actual.ToArray<long>(), what);
    }

    /// <summary>Asserts bit-for-bit equality (for seeded randomness and initialisation).</summary>
    public static void AssertExact(JsonElement expected, Tensor actual, string what) => AssertClose(expected, actual, what, 0, 0);
}
