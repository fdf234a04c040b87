using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>The Model Builder round trip: BuildPipeline → Fit → Save → Load → PredictionEngine gives the same predictions.</summary>
[TestClass]
public sealed class PersistenceTests
{
    public sealed class ModelOutput
    {
        [ColumnName("PredictedLabel")] public string PredictedLabel = "";
        public float[] Score = Array.Empty<float>();
    }

    private static IEstimator<ITransformer> BuildPipeline(MLContext ml) =>
        ml.Transforms.Concatenate("Features", "Top", "Bottom")
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.Torch(new TorchMulticlassTrainer.Options
            {
                HiddenSizes = new[] { 64 }, NumberOfEpochs = 2, EmaDecay = 0.99,
                Optimizer = """{"type": "AdamW", "lr": 0.003}""",
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel", "PredictedLabel"));

    [TestMethod]
    public void SaveWithTorch_LoadWithTorch_PredictionEngineGivesSamePredictions()
    {
        var ml = new MLContext(seed: 0);
        var train = FashionMnistData.Load(ml, train: true, take: 3000);
        var model = BuildPipeline(ml).Fit(train);
        var dir = Path.Combine(Path.GetTempPath(), "mllrsched-mlnet-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var path = Path.Combine(dir, "model.zip");
            ml.Model.SaveWithTorch(model, train.Schema, path);
            Assert.IsTrue(File.Exists(TorchModelPersistence.CompanionPath(path)));

            var ml2 = new MLContext();
            var loaded = ml2.Model.LoadWithTorch(path, out var schema);
            Assert.AreEqual(train.Schema.Count, schema.Count);
            var before = ml.Model.CreatePredictionEngine<ImageRow, ModelOutput>(model);
            var after = ml2.Model.CreatePredictionEngine<ImageRow, ModelOutput>(loaded);
            var rows = ml.Data.CreateEnumerable<ImageRow>(FashionMnistData.Load(ml, train: false, take: 50), reuseRowObject: false).ToArray();
            foreach (var row in rows)
            {
                var a = before.Predict(row);
                var b = after.Predict(row);
                Assert.AreEqual(a.PredictedLabel, b.PredictedLabel);
                CollectionAssert.AreEqual(a.Score, b.Score);
            }

            // The loaded Torch step has the trained column types: ML.NET's evaluator accepts it.
            var steps = ((IEnumerable<ITransformer>)loaded).ToArray();
            var upToTorch = new TransformerChain<ITransformer>(steps[..^1]);
            var loadedScores = upToTorch.Transform(FashionMnistData.Load(ml2, train: false, take: 500));
            Assert.AreEqual(10, ((VectorDataViewType)loadedScores.Schema["Score"].Type).Size);
            var metrics = ml2.MulticlassClassification.Evaluate(loadedScores);
            Assert.IsTrue(metrics.MicroAccuracy > 0.7, $"accuracy of the reloaded model {metrics.MicroAccuracy}");

            // Plain Model.Load cannot know about the companion file and says what to do.
            // (ML.NET creates the marker by reflection, so our exception arrives wrapped.)
            var e = Assert.Throws<Exception>(() => new MLContext().Model.Load(path, out _));
            while (e.InnerException != null && e is not InvalidOperationException) e = e.InnerException;
            Assert.IsInstanceOfType<InvalidOperationException>(e);
            StringAssert.Contains(e.Message, "LoadWithTorch");

            File.Delete(TorchModelPersistence.CompanionPath(path));
            var missing = Assert.ThrowsExactly<FileNotFoundException>(() => new MLContext().Model.LoadWithTorch(path, out _));
            StringAssert.Contains(missing.Message, "model.zip.torch.json");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
