using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLLrSched.MLExtensions.Tests;

[TestClass]
public sealed class TorchTrainerTests
{
    private static IEstimator<ITransformer> Pipeline(MLContext ml, TorchMulticlassTrainer.Options options) =>
        ml.Transforms.Concatenate("Features", "Top", "Bottom")
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.Torch(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabelText", "PredictedLabel"));

    [TestMethod]
    public void FashionMnist_ConcatenateNormalizeTorch_EvaluatorAccuracyAtLeast088()
    {
        var ml = new MLContext(seed: 0);
        var log = new List<string>();
        ml.Log += (_, e) => { if (e.Source.StartsWith("TorchMulticlassTrainer", StringComparison.Ordinal) && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info) lock (log) log.Add(e.Message); };
        var train = FashionMnistData.Load(ml, train: true);
        var test = FashionMnistData.Load(ml, train: false);
        var options = new TorchMulticlassTrainer.Options
        {
            HiddenSizes = [256, 128],
            BatchSize = 128,
            NumberOfEpochs = 8,
            Optimizer = """{"type": "AdamW", "lr": 0.002, "weight_decay": 0.01}""",
            Scheduler = """{"type": "cosine", "num_warmup_steps": 100, "num_training_steps": "$total_steps"}""",
            LogEveryNSteps = 200,
        };
        var model = Pipeline(ml, options).Fit(train);
        var scored = model.Transform(test);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Console.WriteLine($"Fashion-MNIST test: accuracy {metrics.MacroAccuracy:F4} macro, {metrics.MicroAccuracy:F4} micro, log-loss {metrics.LogLoss:F4}");
        Assert.IsTrue(metrics.MicroAccuracy >= 0.88, $"accuracy {metrics.MicroAccuracy:F4} < 0.88");
        Assert.IsTrue(log.Any(m => m.Contains("epoch 7: train_loss", StringComparison.Ordinal)), "progress reaches MLContext.Log: " + string.Join(" | ", log.Take(5)));
        Assert.IsTrue(log.Any(m => m.Contains("60000 rows, 784 features, 10 classes, MLP on cpu", StringComparison.Ordinal)), "the start line: " + string.Join(" | ", log.Take(3)));

        // PredictedLabel is a key with the class names, so MapKeyToValue gives them back.
        var first = ml.Data.CreateEnumerable<Prediction>(scored, reuseRowObject: false).First();
        CollectionAssert.Contains(MLLrSched.Data.FashionMnist.ClassNames, first.PredictedLabelText);
        Assert.AreEqual(10, first.Score.Length);
        Assert.AreEqual(1.0, first.Score.Sum(), 1e-5);
    }

    public sealed class Prediction
    {
        public string PredictedLabelText = "";
        public float[] Score = Array.Empty<float>();
    }

    public sealed class ScalarRow
    {
        public float Features;
        public string Label = "";
    }

    public sealed class VectorRow
    {
        [VectorType(3)] public float[] Features = new float[3];
        public string Label = "";
        public bool Flag;
        public float Value;
    }

    [TestMethod]
    public void SchemaErrors_AreReportedLikeMlNet()
    {
        var ml = new MLContext();
        var rows = new[] { new VectorRow { Label = "a" }, new VectorRow { Label = "b" } };
        var data = ml.Data.LoadFromEnumerable(rows);

        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.MulticlassClassification.Trainers.Torch(labelColumnName: "Missing").Fit(data));
        StringAssert.Contains(e.Message, "Could not find label column 'Missing'");

        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.Torch().Fit(data));
        StringAssert.Contains(e.Message, "Schema mismatch for label column 'Label': expected Key");
        StringAssert.Contains(e.Message, "Schema mismatch for label column 'Label': expected Key");
        StringAssert.Contains(e.Message, "got String");

        var scalar = ml.Data.LoadFromEnumerable(new[] { new ScalarRow { Label = "a" } });
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(scalar).Transform(scalar);
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.Torch().Fit(keyed));
        StringAssert.Contains(e.Message, "Schema mismatch for feature column 'Features': expected known-size vector of Single, got Single");

        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.Torch().Fit(data));
        StringAssert.Contains(e.Message, "Schema mismatch for label column 'Label': expected Boolean, got String");

        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Regression.Trainers.Torch("Value", "Nope").Fit(data));
        StringAssert.Contains(e.Message, "Could not find feature column 'Nope'");

        // A variable-size vector is refused too: the network needs a fixed input width.
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.MulticlassClassification.Trainers.Torch(featureColumnName: "Tokens").Fit(
                ml.Transforms.Text.TokenizeIntoWords("Tokens", "Label").Append(ml.Transforms.Conversion.MapValueToKey("Label")).Fit(data).Transform(data)));
        StringAssert.Contains(e.Message, "Schema mismatch for feature column 'Tokens': expected known-size vector of Single, got Vector<String>");
    }

    [TestMethod]
    public void BinaryAndRegression_TrainAndEvaluateWithMlNetEvaluators()
    {
        var ml = new MLContext(seed: 1);
        var rng = new Random(5);
        var rows = Enumerable.Range(0, 2000).Select(_ =>
        {
            var x = new[] { (float)rng.NextDouble() * 2 - 1, (float)rng.NextDouble() * 2 - 1, (float)rng.NextDouble() * 2 - 1 };
            var y = 1.5f * x[0] - 2f * x[1] + 0.5f * x[2] * x[2];
            return new VectorRow { Features = x, Flag = x[0] + x[1] > 0, Value = y };
        }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var split = ml.Data.TrainTestSplit(data, 0.25, seed: 1);

        var binary = ml.BinaryClassification.Trainers.Torch(new TorchBinaryTrainer.Options { LabelColumnName = "Flag", HiddenSizes = [32], NumberOfEpochs = 10, Optimizer = """{"type": "Adam", "lr": 0.01}""" }).Fit(split.TrainSet);
        var bm = ml.BinaryClassification.Evaluate(binary.Transform(split.TestSet), labelColumnName: "Flag");
        Assert.IsTrue(bm.AreaUnderRocCurve > 0.97, $"AUC {bm.AreaUnderRocCurve}");

        var regression = ml.Regression.Trainers.Torch(new TorchRegressionTrainer.Options { LabelColumnName = "Value", HiddenSizes = [32], NumberOfEpochs = 30, Optimizer = """{"type": "Adam", "lr": 0.01}""" }).Fit(split.TrainSet);
        var rm = ml.Regression.Evaluate(regression.Transform(split.TestSet), labelColumnName: "Value");
        Assert.IsTrue(rm.RSquared > 0.95, $"R² {rm.RSquared}");
    }

    private sealed class WeightedRow
    {
        [VectorType(3)] public float[] Features = new float[3];
        public bool Flag;
        public float Weight;
        public string Text = "";
    }

    [TestMethod]
    public void ExampleWeights_ZeroWeightRowsTeachNothing_AndBadWeightColumnsAreReported()
    {
        var ml = new MLContext(seed: 1);
        var rng = new Random(7);
        var rows = Enumerable.Range(0, 1200).Select(_ =>
        {
            var x = new[] { (float)rng.NextDouble() * 2 - 1, (float)rng.NextDouble() * 2 - 1, (float)rng.NextDouble() * 2 - 1 };
            var flag = x[0] + x[1] > 0;
            // Positive rows weigh nothing: a model that honours the weights never sees a positive example.
            return new WeightedRow { Features = x, Flag = flag, Weight = flag ? 0f : 1f };
        }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        TorchBinaryTrainer.Options Options(string? weight) => new()
        {
            LabelColumnName = "Flag", ExampleWeightColumnName = weight, HiddenSizes = [16], NumberOfEpochs = 5,
            Optimizer = """{"type": "Adam", "lr": 0.01}""",
        };
        double PositiveRate(ITransformer model) =>
            ml.Data.CreateEnumerable<BinaryPrediction>(model.Transform(data), reuseRowObject: false).Average(p => p.PredictedLabel ? 1.0 : 0.0);

        var unweighted = PositiveRate(ml.BinaryClassification.Trainers.Torch(Options(null)).Fit(data));
        var weighted = PositiveRate(ml.BinaryClassification.Trainers.Torch(Options("Weight")).Fit(data));
        Assert.IsTrue(unweighted > 0.4, $"without weights the model predicts positives for {unweighted:P0} of rows");
        Assert.IsTrue(weighted < 0.05, $"with zero weight on every positive row the model still predicts positives for {weighted:P0} of rows");

        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.Torch(Options("Missing")).Fit(data));
        StringAssert.Contains(e.Message, "Could not find weight column 'Missing'");
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.Torch(Options("Text")).Fit(data));
        StringAssert.Contains(e.Message, "Schema mismatch for weight column 'Text': expected Single, got String");
    }

    private sealed class BinaryPrediction
    {
        public bool PredictedLabel;
    }

    [TestMethod]
    public void Cancellation_StopsTraining()
    {
        var ml = new MLContext();
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(new[] { new VectorRow { Label = "a" }, new VectorRow { Label = "b" } }));
        var input = data.Transform(ml.Data.LoadFromEnumerable(new[] { new VectorRow { Label = "a" }, new VectorRow { Label = "b" } }));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() =>
            ml.MulticlassClassification.Trainers.Torch(new TorchMulticlassTrainer.Options { CancellationToken = cts.Token }).Fit(input));
    }

    public sealed class FlagPrediction
    {
        public bool PredictedLabel;
        public float Probability;
    }

    [TestMethod]
    public void MlNetWorkflow_CacheCheckpoint_CrossValidate_PredictionEnginesOnFourThreads()
    {
        var ml = new MLContext(seed: 0);
        var data = Data.View(ml, 600);
        var pipeline = ml.Transforms.NormalizeMinMax("Features").AppendCacheCheckpoint(ml)
            .Append(ml.BinaryClassification.Trainers.Torch("Flag", numberOfEpochs: 8, learningRate: 0.01));
        var folds = ml.BinaryClassification.CrossValidate(data, pipeline, numberOfFolds: 3, labelColumnName: "Flag");
        Assert.AreEqual(3, folds.Count);
        Assert.IsTrue(folds.All(f => f.Metrics.AreaUnderRocCurve > 0.95), string.Join(", ", folds.Select(f => f.Metrics.AreaUnderRocCurve)));

        var model = pipeline.Fit(data);
        var rows = Data.Rows(200, seed: 9);
        var expected = ml.Model.CreatePredictionEngine<Data.Row, FlagPrediction>(model);
        var want = rows.Select(r => expected.Predict(r).Probability).ToArray();
        var got = new float[4][];
        Parallel.For(0, 4, t =>
        {
            var engine = ml.Model.CreatePredictionEngine<Data.Row, FlagPrediction>(model);
            got[t] = rows.Select(r => engine.Predict(r).Probability).ToArray();
        });
        foreach (var g in got) CollectionAssert.AreEqual(want, g);
    }
}
