using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>Permutation feature importance works on Torch steps for all three tasks, with both of ML.NET's overloads, and a
/// feature of pure noise ranks last.</summary>
[TestClass]
public sealed class PfiTests
{
    public sealed class Row
    {
        public float A, B, C, Noise;
        public string Class = "";
        public bool Flag;
        public float Value;
    }

    private static IDataView Data(MLContext ml, int count)
    {
        var rng = new Random(3);
        float U() => (float)(rng.NextDouble() * 2 - 1);
        var rows = Enumerable.Range(0, count).Select(_ =>
        {
            var (a, b, c) = (U(), U(), U());
            return new Row
            {
                A = a, B = b, C = c, Noise = U(), Class = a + 0.5f * b > 0.2f ? "x" : c > 0 ? "y" : "z", Flag = 2 * a - b + c > 0,
                Value = 3 * a - 2 * b + c,
            };
        }).ToArray();
        var view = ml.Data.LoadFromEnumerable(rows);
        return ml.Transforms.Concatenate("Features", "A", "B", "C", "Noise").Append(ml.Transforms.Conversion.MapValueToKey("Label", "Class"))
            .Fit(view).Transform(view);
    }

    private static void AssertNoiseLast(string what, IReadOnlyList<double> importance)
    {
        Console.WriteLine($"{what}: " + string.Join(", ", importance.Select((v, i) => $"{new[] { "A", "B", "C", "Noise" }[i]} {v:F4}")));
        var noise = importance[3];
        for (var i = 0; i < 3; i++)
            Assert.IsTrue(importance[i] > noise, $"{what}: feature {i} ({importance[i]:F4}) should matter more than noise ({noise:F4})");
    }

    [TestMethod]
    public void AllThreeTasks_BothOverloads_NoiseRanksLast()
    {
        var ml = new MLContext(seed: 0);
        var data = Data(ml, 800);

        var multi = ml.MulticlassClassification.Trainers.Torch(new TorchMulticlassTrainer.Options { HiddenSizes = [32], NumberOfEpochs = 20, LearningRate = 0.01 }).Fit(data);
        var scored = multi.Transform(data);
        var typed = ml.MulticlassClassification.PermutationFeatureImportance(multi, scored, permutationCount: 2);
        AssertNoiseLast("multiclass (typed)", typed.Select(m => -m.MicroAccuracy.Mean).ToArray());
        var chain = new EstimatorChain<ITransformer>().Append(ml.MulticlassClassification.Trainers.Torch(new TorchMulticlassTrainer.Options { HiddenSizes = [32], NumberOfEpochs = 20, LearningRate = 0.01 })).Fit(data);
        var untyped = ml.MulticlassClassification.PermutationFeatureImportance(chain, chain.Transform(data), permutationCount: 2);
        AssertNoiseLast("multiclass (model)", new[] { "A", "B", "C", "Noise" }.Select(n => -untyped[n].MicroAccuracy.Mean).ToArray());

        // A saved model: LoadWithTorch gives the step back as a Torch step, so PFI works on it as on ML.NET's own loaded models.
        var path = Path.Combine(Path.GetTempPath(), $"mllrsched-pfi-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(chain, data.Schema, path);
            var loaded = new MLContext(seed: 0).Model.LoadWithTorch(path, out _);
            var step = TorchModelPersistence.TorchSteps(loaded).Single();
            Assert.IsNotNull(step.Model.Network);
            var fromDisk = ml.MulticlassClassification.PermutationFeatureImportance(loaded, loaded.Transform(data), permutationCount: 2);
            AssertNoiseLast("multiclass (loaded)", new[] { "A", "B", "C", "Noise" }.Select(n => -fromDisk[n].MicroAccuracy.Mean).ToArray());
        }
        finally { File.Delete(path); }

        var binary = ml.BinaryClassification.Trainers.Torch("Flag", numberOfEpochs: 20, learningRate: 0.01).Fit(data);
        var b = ml.BinaryClassification.PermutationFeatureImportance(binary, binary.Transform(data), "Flag", permutationCount: 2);
        AssertNoiseLast("binary (typed)", b.Select(m => -m.AreaUnderRocCurve.Mean).ToArray());
        var bu = ml.BinaryClassification.PermutationFeatureImportanceNonCalibrated((ITransformer)binary, binary.Transform(data), "Flag", permutationCount: 2);
        AssertNoiseLast("binary (model)", new[] { "A", "B", "C", "Noise" }.Select(n => -bu[n].AreaUnderRocCurve.Mean).ToArray());

        var regression = ml.Regression.Trainers.Torch("Value", numberOfEpochs: 20, learningRate: 0.01).Fit(data);
        var r = ml.Regression.PermutationFeatureImportance(regression, regression.Transform(data), "Value", permutationCount: 2);
        AssertNoiseLast("regression (typed)", r.Select(m => -m.RSquared.Mean).ToArray());
        var ru = ml.Regression.PermutationFeatureImportance((ITransformer)regression, regression.Transform(data), "Value", permutationCount: 2);
        AssertNoiseLast("regression (model)", new[] { "A", "B", "C", "Noise" }.Select(n => -ru[n].RSquared.Mean).ToArray());
    }
}
