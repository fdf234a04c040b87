using MLLrSched.Backend;
using MLLrSched.Data;

namespace MLLrSched.Recipes.Tests;

/// <summary>Small deterministic data and weight comparisons.</summary>
internal static class Fixtures
{
    /// <summary>n samples of <paramref name="features"/> uniform features, labels from a fixed linear rule.</summary>
    public static InMemoryDataset Classification(int n, int features = 8, int classes = 3, int seed = 1)
    {
        var rng = new Random(seed);
        var x = new float[n * features];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var y = new long[n];
        for (var i = 0; i < n; i++)
        {
            double s = 0;
            for (var j = 0; j < features; j++) s += x[i * features + j] * (j % 3 - 1);
            y[i] = Math.Clamp((long)Math.Floor((s + 1.5) / 3 * classes), 0, classes - 1);
        }
        return InMemoryDataset.ForClassification(x, [features], y, classes, "synthetic");
    }

    public static float[][] Weights(IModel m) => m.NamedParameters().Select(p => p.Tensor.ToFloatArray()).ToArray();

    public static void AssertBitEqual(float[][] expected, float[][] actual, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (var i = 0; i < expected.Length; i++) CollectionAssert.AreEqual(expected[i], actual[i], $"{what}: tensor {i} differs");
    }
}
