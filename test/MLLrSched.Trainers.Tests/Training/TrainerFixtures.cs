using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Torch;
using MLLrSched.Torch.Modules;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>Small deterministic data, models and an optimizer wrapper that records what each step sees.</summary>
internal static class TrainerFixtures
{
    public static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>n samples of <paramref name="features"/> uniform features, labels from a fixed linear rule.</summary>
    public static InMemoryDataset Classification(int n, int features = 8, int classes = 3, int seed = 1) =>
        MLLrSched.Tests.Shared.SyntheticData.Classification(n, features, classes, seed);

    public static InMemoryDataset Regression(int n, int features = 6, int seed = 2)
    {
        var rng = new Random(seed);
        var x = new float[n * features];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var t = new float[n];
        for (var i = 0; i < n; i++) t[i] = x[i * features] * 2 - x[i * features + 1] + 0.5f;
        return InMemoryDataset.ForRegression(x, [features], t, 1, "synthetic-regression");
    }

    /// <summary>A dropout-free MLP (no batch statistics), initialised from <paramref name="seed"/>.</summary>
    public static Sequential Mlp(int inputs = 8, int outputs = 3, long seed = 7, double dropout = 0)
    {
        Torch.Torch.ManualSeed(seed);
        var layers = new List<Module> { new Linear(inputs, 16), new Tanh() };
        if (dropout > 0) layers.Add(new Dropout(dropout));
        layers.Add(new Linear(16, outputs));
        return new Sequential(layers.ToArray());
    }

    public static float[][] Weights(Module m) => m.Parameters().Select(p => p.ToArray<float>()).ToArray();

    public static void AssertBitEqual(float[][] expected, float[][] actual, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (var i = 0; i < expected.Length; i++) CollectionAssert.AreEqual(expected[i], actual[i], $"{what}: tensor {i} differs");
    }

    public static void AssertClose(float[][] expected, float[][] actual, double tol, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (var i = 0; i < expected.Length; i++)
            for (var j = 0; j < expected[i].Length; j++)
                Assert.IsTrue(Math.Abs(expected[i][j] - actual[i][j]) <= tol * (1 + Math.Abs(expected[i][j])),
                    $"{what}: tensor {i}[{j}] expected {expected[i][j]:R}, got {actual[i][j]:R}");
    }
}

/// <summary>Wraps an optimizer and records, at every step, the gradients it is about to apply and the weights after.</summary>
internal sealed class RecordingOptimizer(IOptimizer inner) : IOptimizer
{
    public List<float[][]> Gradients { get; } = new();
    public List<float[][]> WeightsAfter { get; } = new();
    public IReadOnlyList<ParamGroup> ParamGroups => inner.ParamGroups;
    public long StepCount => inner.StepCount;

    public void Step()
    {
        Gradients.Add(ParamGroups.SelectMany(g => g.Parameters).Select(p =>
        {
            using var g = p.Grad!;
            return g.ToFloatArray();
        }).ToArray());
        inner.Step();
        WeightsAfter.Add(ParamGroups.SelectMany(g => g.Parameters).Select(p => p.ToFloatArray()).ToArray());
    }

    public double Step(Func<double> closure) => throw new NotSupportedException();
    public void ZeroGrad(bool setToNone = true) => inner.ZeroGrad(setToNone);
    public OptimizerState StateDict() => inner.StateDict();
    public void LoadStateDict(OptimizerState state) => inner.LoadStateDict(state);
}
