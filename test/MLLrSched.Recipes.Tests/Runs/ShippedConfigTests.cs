using MLLrSched.Data;
using MLLrSched.Recipes;
using MLLrSched.Torch;
using MLLrSched.Training;

namespace MLLrSched.Recipes.Tests.Runs;

/// <summary>
/// The configs under configs/ (the README's main job and the CNN job) parse, build their model on the real
/// Fashion-MNIST and train a few optimizer steps with their whole policy: a config that rots (a renamed key, a
/// schedule that no longer accepts "$total_steps") fails here instead of in a user's first run.
/// </summary>
[TestClass]
public sealed class ShippedConfigTests
{
    private static string ConfigDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLLrSched.sln")))
                return Path.Combine(dir.FullName, "configs");
        Assert.Fail($"No MLLrSched.sln above {AppContext.BaseDirectory}.");
        return "";
    }

    [TestMethod]
    [DataRow("fashion-mnist-mlp.json", "mlp")]
    [DataRow("fashion-mnist-cnn.json", "cnn")]
    public void ShippedConfigTrainsWithItsWholePolicy(string file, string modelType)
    {
        if (!Directory.Exists(FashionMnist.DefaultDirectory)) Assert.Inconclusive("dataset-fashion-mnist is not installed");
        var config = RunConfig.Load(Path.Combine(ConfigDirectory(), file));
        Assert.AreEqual(modelType, config.ModelType);
        var o = config.Trainer;
        // The representative policy the README promises: accumulation, clipping, EMA, a warmup schedule.
        Assert.IsGreaterThan(1, o.GradientAccumulationSteps, "gradient accumulation");
        Assert.IsNotNull(o.Clipping.MaxNorm, "clip_grad_norm");
        Assert.IsNotNull(o.Ema, "ema");
        Assert.IsNotNull(o.Scheduler, "scheduler");

        var (train, _, test) = config.LoadData();
        Assert.AreEqual(60_000, train.Count);
        Assert.IsNotNull(test);
        var small = train.Take(1024, seed: 0);
        using var model = config.BuildModel(small, NativeBackend.Instance);
        using var trainer = new Trainer(model, config.BuildTask(small), o with { Epochs = 1, MaxSteps = 3, EvaluateEveryEpoch = false });
        var result = trainer.Fit(small);
        Assert.AreEqual(3L, result.Steps);
        Assert.AreEqual(StopReason.Completed, result.StopReason, result.Message);
        Assert.IsTrue(float.IsFinite(model.NamedParameters()[0].Tensor.ToFloatArray()[0]));
    }
}
