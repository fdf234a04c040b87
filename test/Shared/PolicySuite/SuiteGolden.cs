using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Tests.Shared;

namespace MLLrSched.Tests.PolicySuite;

/// <summary>The golden set of the suite's engine (<see cref="SuiteEngine.Backend"/>'s libtorch version: torch-1.13 for
/// Debian 12's libtorch, torch-2.6 for Debian 13's and for TorchSharp's libtorch 2.10) and tensors made from it on that
/// engine.</summary>
internal static class SuiteGolden
{
    private static readonly Dictionary<string, JsonElement> Files = new();

    public static IBackend B => SuiteEngine.Backend;

    /// <summary>The set; inconclusive (skipped, saying why) when the engine's libtorch has none.</summary>
    public static GoldenSet Set => GoldenSet.Require(SeriesVersion);

    /// <summary>The libtorch version the set is chosen by: the engine's, except that a libtorch 2.x without a recorded
    /// set of its own series falls back to the newest 2.x set (TorchSharp 0.107 runs libtorch 2.10; PyTorch 2.6 is the
    /// newest 2.x Debian ships), which follows the same 2.x semantics.</summary>
    public static string SeriesVersion
    {
        get
        {
            var v = B.LibtorchVersion;
            if (GoldenSet.For(v) != null) return v;
            var major = GoldenSet.SeriesOf(v).Split('.')[0];
            var newest = GoldenSet.Available.Where(s => s.StartsWith($"torch-{major}.", StringComparison.Ordinal))
                .Select(s => s["torch-".Length..]).OrderBy(s => Version.Parse(s)).LastOrDefault();
            return newest ?? v;
        }
    }

    /// <summary>A JSON file of the set, parsed once per process.</summary>
    public static JsonElement Load(string relative)
    {
        lock (Files)
        {
            if (!Files.TryGetValue(relative, out var root)) Files[relative] = root = Set.Load(relative);
            return root;
        }
    }

    public static double Num(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch { "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, _ => double.NaN }
        : e.GetDouble();

    public static long[] Shape(JsonElement t) => t.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();

    public static float[] Floats(JsonElement t) => t.GetProperty("data").EnumerateArray().Select(x => (float)Num(x)).ToArray();

    /// <summary>A float32 tensor on the suite's engine from {"shape", "data"}.</summary>
    public static ITensor Tensor(JsonElement t) => B.FromArray(Floats(t), Shape(t), Device.Cpu);

    /// <summary>Copies the golden tensors of <paramref name="byName"/> (name → {"shape", "data"}) into the model's
    /// parameters and buffers of the same names (a missing or extra name fails).</summary>
    public static void SetWeights(IModel model, JsonElement byName)
    {
        var own = model.NamedParameters().Concat(model.NamedBuffers()).ToDictionary(t => t.Name, t => t.Tensor);
        using var scope = B.NewScope();
        using var noGrad = B.NoGrad();
        foreach (var p in byName.EnumerateObject())
        {
            Assert.IsTrue(own.TryGetValue(p.Name, out var target), $"the model has no '{p.Name}' (it has {string.Join(", ", own.Keys)})");
            if (p.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) { target.Zero_(); continue; }
            CollectionAssert.AreEqual(Shape(p.Value), target.Shape, $"{p.Name}: shape");
            target.Copy_(Tensor(p.Value));
        }
    }
}

/// <summary>The worst deviation over everything compared, each tensor's error relative to its own scale
/// (max |a − e| / max |e|), the measure tools/golden/cpu_variation.py uses for PyTorch's own variation.</summary>
internal sealed class Deviation
{
    public double Rel;
    public long Count;
    public string Where = "-";

    public void Add(string where, float[] actual, float[] expected)
    {
        Assert.HasCount(expected.Length, actual, where);
        Count += actual.Length;
        double scale = 0, diff = 0;
        var at = -1;
        for (var i = 0; i < actual.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
            var d = Math.Abs((double)actual[i] - expected[i]);
            if (double.IsNaN(d) && !(float.IsNaN(actual[i]) && float.IsNaN(expected[i]))) d = double.PositiveInfinity;
            if (d > diff) { diff = d; at = i; }
        }
        if (diff == 0) return;
        var rel = scale > 0 ? diff / scale : double.PositiveInfinity;
        if (rel > Rel)
        {
            Rel = rel;
            Where = $"{where}[{at}]: {actual[at]:R} vs {expected[at]:R}";
        }
    }

    public void Add(string where, ITensor actual, JsonElement expected) => Add(where, actual.ToFloatArray(), SuiteGolden.Floats(expected));
}
