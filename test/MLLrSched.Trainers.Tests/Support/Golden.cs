using System.Text.Json;
using MLLrSched.Torch;

namespace MLLrSched.Trainers.Tests.Support;

/// <summary>Golden JSON files of the shim's libtorch's set (tools/golden/data/torch-X.Y, copied to golden/ in the test output).</summary>
internal static class Golden
{
    public static JsonElement Load(string relative) => NativeGolden.Set.Load(relative);

    public static double Num(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch { "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, _ => double.NaN }
        : e.GetDouble();

    /// <summary>A float32 tensor from {"shape", "data"}.</summary>
    public static Tensor Float(JsonElement t)
    {
        var shape = t.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        var data = t.GetProperty("data").EnumerateArray().Select(x => (float)Num(x)).ToArray();
        return Tensor.FromArray<float>(data.AsSpan(), shape);
    }

    public static void AssertClose(JsonElement expected, Tensor actual, string what, double rtol, double atol)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        CollectionAssert.AreEqual(shape, actual.Shape, $"{what}: shape");
        var e = expected.GetProperty("data").EnumerateArray().Select(Num).ToArray();
        var a = actual.ToArray<double>();
        for (var i = 0; i < e.Length; i++)
        {
            var tol = atol + rtol * Math.Abs(e[i]);
            if (!(Math.Abs(a[i] - e[i]) <= tol))
                Assert.Fail($"{what}[{i}]: expected {e[i]:R}, got {a[i]:R} (|diff| {Math.Abs(a[i] - e[i]):E2} > {tol:E2})");
        }
    }
}
