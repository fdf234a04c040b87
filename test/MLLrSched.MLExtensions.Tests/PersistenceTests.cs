using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLLrSched.Backend.Engines;
using MLLrSched.Backend.Modules;
using MLLrSched.Models;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>ML.NET-native persistence: the network is ONNX inside the zip, plain Save/Load work, scoring needs no libtorch;
/// ONNX predictions equal the Torch model's to 1e-5; ModelFactory models keep the Torch-backed path.</summary>
[TestClass]
public sealed class PersistenceTests
{
    private static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mllrsched-mlnet-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public sealed class ModelOutput
    {
        [ColumnName("PredictedLabel")] public string PredictedLabel = "";
        public float[] Score = [];
    }

    private static IEstimator<ITransformer> FashionPipeline(MLContext ml, TorchMulticlassTrainer.Options options) =>
        ml.Transforms.Concatenate("Features", "Top", "Bottom")
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.Torch(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel", "PredictedLabel"));

    /// <summary>Softmax of the engine's logits for the step's network and weights, for each row of <paramref name="features"/>.</summary>
    private static float[] TorchProbabilities(TorchModelParameters m, float[] features, int rows)
    {
        long[] shape = [rows, .. m.SampleShape.Select(v => (long)v)];
        var logits = TestEngine.Forward(m.Network!, m.StateDict!, features, shape);
        var p = new float[logits.Length];
        for (var r = 0; r < rows; r++)
        {
            var row = logits.AsSpan(r * m.Outputs, m.Outputs);
            var max = row.ToArray().Max();
            double sum = 0;
            for (var c = 0; c < m.Outputs; c++) sum += Math.Exp(row[c] - max);
            for (var c = 0; c < m.Outputs; c++) p[r * m.Outputs + c] = (float)(Math.Exp(row[c] - max) / sum);
        }
        return p;
    }

    private static (float[] Features, float[] Scores) FeaturesAndScores(IDataView scored, int featureCount, int width)
    {
        var features = scored.GetColumn<float[]>("Features").SelectMany(x => x).ToArray();
        var scores = width == 1 ? scored.GetColumn<float>("Score").ToArray() : scored.GetColumn<float[]>("Score").SelectMany(x => x).ToArray();
        Assert.AreEqual(features.Length / featureCount * width, scores.Length);
        return (features, scores);
    }

    [TestMethod]
    public void MlpAndCnn_PlainSaveAndLoad_ZipIsTheOnlyFile_OnnxEqualsTorchWithin1e5()
    {
        var ml = new MLContext(seed: 0);
        var train = FashionMnistData.Load(ml, train: true, take: 2000);
        var test = FashionMnistData.Load(ml, train: false, take: 300);
        var rows = ml.Data.CreateEnumerable<ImageRow>(test, reuseRowObject: false).Take(40).ToArray();
        foreach (var options in new[]
                 {
                     new TorchMulticlassTrainer.Options { HiddenSizes = [64, 32], Normalization = "layernorm", Activation = "gelu", NumberOfEpochs = 2, EmaDecay = 0.99, LearningRate = 0.003 },
                     new TorchMulticlassTrainer.Options { Architecture = TorchArchitecture.Cnn, CnnChannels = [8, 16], CnnHidden = 32, NumberOfEpochs = 1, LearningRate = 0.003 },
                 })
        {
            var what = options.Architecture.ToString();
            var model = FashionPipeline(ml, options).Fit(train);
            var step = TorchModelPersistence.TorchSteps(model).Single();
            Assert.IsTrue(step.Model.IsOnnx);

            // The ONNX network (run by ML.NET's ONNX transformer) against the engine's forward with the same weights.
            var scored = model.Transform(test);
            var (features, scores) = FeaturesAndScores(scored, 784, 10);
            var torch = TorchProbabilities(step.Model, features, features.Length / 784);
            var diff = TestEngine.MaxAbsDiff(torch, scores);
            Console.WriteLine($"{what}: max |Torch − ONNX| over 300 test images = {diff:G3}");
            Assert.IsTrue(diff <= 1e-5, $"{what}: ONNX scores differ from the Torch model's by {diff:G3}");

            var dir = TempDir();
            try
            {
                var path = Path.Combine(dir, "model.zip");
                ml.Model.Save(model, train.Schema, path);
                CollectionAssert.AreEqual(new[] { "model.zip" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray(), "the zip is the only artifact");

                var ml2 = new MLContext();
                var loaded = ml2.Model.Load(path, out var schema);
                Assert.AreEqual(train.Schema.Count, schema.Count);
                var before = ml.Model.CreatePredictionEngine<ImageRow, ModelOutput>(model);
                var after = ml2.Model.CreatePredictionEngine<ImageRow, ModelOutput>(loaded);
                foreach (var row in rows)
                {
                    var a = before.Predict(row);
                    var b = after.Predict(row);
                    Assert.AreEqual(a.PredictedLabel, b.PredictedLabel);
                    CollectionAssert.AreEqual(a.Score, b.Score, what);
                }
                // The loaded model is ML.NET's own types end to end; its evaluator accepts it (before PredictedLabel is mapped back to text).
                var upToScores = new TransformerChain<ITransformer>(((IEnumerable<ITransformer>)loaded).ToArray()[..^1]);
                var m = ml2.MulticlassClassification.Evaluate(upToScores.Transform(test));
                Assert.IsTrue(m.MicroAccuracy > 0.6, $"{what}: accuracy of the reloaded model {m.MicroAccuracy}");
            }
            finally { Directory.Delete(dir, recursive: true); }
        }
    }

    [TestMethod]
    public void SavedStep_ScoresInAProcessWithoutLibtorchOrMLLrSched_SameScores()
    {
        var ml = new MLContext(seed: 0);
        var rows = Data.Rows(400);
        var data = ml.Data.LoadFromEnumerable(rows);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Class").Fit(data).Transform(data);
        var dir = TempDir();
        try
        {
            var featuresPath = Path.Combine(dir, "features.csv");
            File.WriteAllLines(featuresPath, rows.Take(50).Select(r => string.Join(",", r.Features.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
            var featuresOnly = ml.Data.LoadFromEnumerable(rows.Take(50).Select(r => new FeaturesRow { Features = r.Features })).Schema;
            var steps = new (string Name, ITransformer Step, int Width)[]
            {
                ("multiclass", ml.MulticlassClassification.Trainers.Torch(numberOfEpochs: 3).Fit(keyed), 3),
                ("binary", ml.BinaryClassification.Trainers.Torch("Flag", numberOfEpochs: 3).Fit(data), 1),
                ("regression", ml.Regression.Trainers.Torch("Value", numberOfEpochs: 3).Fit(data), 1),
            };
            foreach (var (name, step, width) in steps)
            {
                var path = Path.Combine(dir, name + ".zip");
                ml.Model.Save(step, featuresOnly, path);
                var outPath = Path.Combine(dir, name + ".scores.csv");
                var (code, output) = Child.Run("score", path, featuresPath, outPath);
                Assert.AreEqual(0, code, $"{name}: {output}");
                StringAssert.Contains(output, "libtorch libraries loaded: none; MLLrSched assemblies loaded: none", name);
                var childScores = File.ReadAllLines(outPath).SelectMany(l => l.Split(',')).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                var (_, ours) = FeaturesAndScores(step.Transform(data), 4, width);
                CollectionAssert.AreEqual(ours.Take(50 * width).ToArray(), childScores, name);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    public sealed class FeaturesRow
    {
        [VectorType(4)] public float[] Features = new float[4];
    }

    [TestMethod]
    public void ModelFactoryModel_PlainSaveNamesTheFix_SaveWithTorchAndLoadWithTorchRoundTrip()
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", "Class").Fit(Data.View(ml, 300)).Transform(Data.View(ml, 300));
        var spec = new SequentialSpec([new LinearSpec(4, 16), new ActivationSpec("tanh"), new LinearSpec(16, 3)]);
        IModelFactory factory = (f, o) => ModelFactory.Build(spec, EngineRegistry.Load().Backend);
        var step = ml.MulticlassClassification.Trainers.Torch(new TorchMulticlassTrainer.Options { ModelFactory = factory.Invoke, NumberOfEpochs = 3 }).Fit(data);
        Assert.IsFalse(step.Model.IsOnnx);
        var dir = TempDir();
        try
        {
            var path = Path.Combine(dir, "model.zip");
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Model.Save(step, data.Schema, path));
            StringAssert.Contains(e.Message, "SaveWithTorch");
            StringAssert.Contains(e.Message, "Options.Network");

            ml.Model.SaveWithTorch(step, data.Schema, path);
            Assert.IsTrue(File.Exists(TorchModelPersistence.CompanionPath(path)));
            var loaded = new MLContext().Model.LoadWithTorch(path, out _, factory.Invoke);
            CollectionAssert.AreEqual(step.Transform(data).GetColumn<float[]>("Score").SelectMany(x => x).ToArray(),
                loaded.Transform(data).GetColumn<float[]>("Score").SelectMany(x => x).ToArray());

            var plain = Assert.Throws<Exception>(() => new MLContext().Model.Load(path, out _));
            while (plain.InnerException != null && plain is not InvalidOperationException) plain = plain.InnerException;
            StringAssert.Contains(plain.Message, "LoadWithTorch");
            File.Delete(TorchModelPersistence.CompanionPath(path));
            var missing = Assert.ThrowsExactly<FileNotFoundException>(() => new MLContext().Model.LoadWithTorch(path, out _, factory.Invoke));
            StringAssert.Contains(missing.Message, "model.zip.torch.json");
        }
        finally
        {
            step.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Regression_LabelsFarFromZero_LearntStandardised_ScoresAndExportedOnnxInLabelUnits()
    {
        var ml = new MLContext(seed: 0);
        var rows = Data.Rows(500);
        foreach (var r in rows) r.Value = 5000 + 800 * r.Value;
        var data = ml.Data.LoadFromEnumerable(rows);
        var step = ml.Regression.Trainers.Torch("Value", numberOfEpochs: 30, learningRate: 0.01).Fit(data);
        var m = ml.Regression.Evaluate(step.Transform(data), "Value");
        Assert.IsTrue(m.RSquared > 0.95, $"R² {m.RSquared} on labels around 5000");
        Assert.AreNotEqual(1f, step.Model.LabelScale);

        // The exported ONNX (dynamic batch) gives the Score column's values: the standardisation is part of the graph.
        var features = rows.SelectMany(r => r.Features).ToArray();
        var onnx = TestEngine.RunOnnx(step.Model.ToOnnx(), "input", features, [rows.Length, 4]);
        var scores = step.Transform(data).GetColumn<float>("Score").ToArray();
        var diff = TestEngine.MaxAbsDiff(scores, onnx);
        Assert.IsTrue(diff <= 1e-5 * 5000, $"exported ONNX vs Score: {diff:G3}");

        // What `mllrsched export-onnx model.zip` does: the network out of the saved zip, re-exported with a dynamic batch
        // and the label scaling in the graph, gives the Score column too.
        var dir = TempDir();
        try
        {
            var path = Path.Combine(dir, "model.zip");
            ml.Model.Save(step, data.Schema, path);
            var (entry, embedded) = Onnx.SavedModels.FromMlNetZip(path).Single();
            StringAssert.EndsWith(entry, "OnnxModel");
            var exported = Onnx.SavedModels.Reexport(embedded, new Onnx.OnnxExportOptions { FlatInput = true });
            var fromZip = TestEngine.RunOnnx(exported, "input", features, [rows.Length, 4]);
            Assert.IsTrue(TestEngine.MaxAbsDiff(scores, fromZip) <= 1e-5 * 5000, "ONNX re-exported from the zip vs Score");
        }
        finally { Directory.Delete(dir, recursive: true); }

        var raw = ml.Regression.Trainers.Torch(new TorchRegressionTrainer.Options { LabelColumnName = "Value", NumberOfEpochs = 30, LearningRate = 0.01, NormalizeLabel = false }).Fit(data);
        Assert.AreEqual(1f, raw.Model.LabelScale);
        Assert.IsTrue(ml.Regression.Evaluate(raw.Transform(data), "Value").RSquared < m.RSquared, "without standardisation the same run fits worse");
    }

    private delegate Backend.IModel IModelFactory(int features, int outputs);
}
