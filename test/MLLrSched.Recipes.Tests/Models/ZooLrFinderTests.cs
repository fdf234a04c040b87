using MLLrSched.Data;
using MLLrSched.Models;
using MLLrSched.Torch;
using MLLrSched.Training;

namespace MLLrSched.Recipes.Tests.Models;

/// <summary>The LR range test on the model zoo and real data.</summary>
[TestClass]
public class ZooLrFinderTests
{
    [TestMethod]
    public void FashionMnistSuggestionIsNearTheKnownGoodAdamWLr()
    {
        if (!Directory.Exists(FashionMnist.DefaultDirectory)) Assert.Inconclusive("dataset-fashion-mnist is not installed");
        var data = FashionMnist.Load().Take(2000, seed: 0);
        NativeBackend.Instance.ManualSeed(0);
        using var model = ModelFactory.Mlp(new MlpOptions { InputSize = 784, HiddenSizes = [128], OutputSize = 10 }, NativeBackend.Instance);
        var r = new LrFinder(new LrFinderOptions { BatchSize = 64 })
            .Run(model, new ClassificationTask(10), data, """{"type": "AdamW", "lr": 0.001, "weight_decay": 0.01}""");
        Console.WriteLine(r.Describe());
        Assert.AreEqual(LrSuggestionMethod.SteepestSlope, r.Suggestion.Method);
        Assert.IsTrue(r.SuggestedLr >= 1e-4 && r.SuggestedLr <= 3e-2, $"suggested lr {r.SuggestedLr} should lie in [1e-4, 3e-2]");
        Assert.IsTrue(r.Suggestion.MinLossLrOverTen >= 1e-4 && r.Suggestion.MinLossLrOverTen <= 3e-2, $"min-loss/10 {r.Suggestion.MinLossLrOverTen}");
        Assert.IsTrue(r.BestSmoothedLoss < 0.9 * r.SmoothedLosses[0], $"the smoothed loss fell from {r.SmoothedLosses[0]} (best {r.BestSmoothedLoss})");
        Assert.IsTrue(r.SmoothedLosses[^1] > r.BestSmoothedLoss * 1.5, "and rose again at the high end");
    }
}
