using MLLrSched.Backend;
using MLLrSched.Data;

namespace MLLrSched.Recipes.Tests;

/// <summary>Small deterministic data and weight comparisons.</summary>
internal static class Fixtures
{
    /// <summary>n samples of <paramref name="features"/> uniform features, labels from a fixed linear rule.</summary>
    public static InMemoryDataset Classification(int n, int features = 8, int classes = 3, int seed = 1) =>
        MLLrSched.Tests.Shared.SyntheticData.Classification(n, features, classes, seed);

    public static float[][] Weights(IModel m) => m.NamedParameters().Select(p => p.Tensor.ToFloatArray()).ToArray();

    public static void AssertBitEqual(float[][] expected, float[][] actual, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (var i = 0; i < expected.Length; i++) CollectionAssert.AreEqual(expected[i], actual[i], $"{what}: tensor {i} differs");
    }
}
