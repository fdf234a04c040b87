using MLLrSched.Data;

namespace MLLrSched.Tests.Shared;

/// <summary>Small deterministic datasets for tests of every engine.</summary>
internal static class SyntheticData
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
}
