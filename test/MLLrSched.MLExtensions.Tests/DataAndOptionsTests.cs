using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>No silent data damage, divergence ends the fit, and the errors name what ML.NET users set.</summary>
[TestClass]
public sealed class DataAndOptionsTests
{
    public sealed class Row
    {
        [VectorType(4)] public float[] Features = new float[4];
        public bool Label;
    }

    private static Row[] Rows(int n) => Data.Rows(n).Select(r => new Row { Features = r.Features, Label = r.Flag }).ToArray();

    [TestMethod]
    public void RowWithTooFewOrTooManyValues_FailsNamingTheRow()
    {
        var ml = new MLContext(seed: 0);
        foreach (var length in new[] { 3, 5 })
        {
            var rows = Rows(50);
            rows[17].Features = new float[length];
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.BinaryClassification.Trainers.Torch().Fit(ml.Data.LoadFromEnumerable(rows)));
            StringAssert.Contains(e.Message, $"row 17 of the training data has {length} values in the feature column 'Features', whose type is Vector<Single, 4>");
            StringAssert.Contains(e.Message, "Vectors must have the same dimensionality");
        }
        var valid = Rows(50);
        valid[3].Features = new float[3];
        var v = Assert.ThrowsExactly<InvalidOperationException>(() => ml.BinaryClassification.Trainers.Torch(new TorchBinaryTrainer.Options
        {
            ValidationSet = ml.Data.LoadFromEnumerable(valid), NumberOfEpochs = 1,
        }).Fit(ml.Data.LoadFromEnumerable(Rows(50))));
        StringAssert.Contains(v.Message, "row 3 of the validation set has 3 values");
    }

    [TestMethod]
    public void NonFiniteFeatures_AreSkippedWithAWarning()
    {
        var ml = new MLContext(seed: 0);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.Message); };
        var rows = Rows(100);
        rows[5].Features[2] = float.NaN;
        rows[9].Features[0] = float.PositiveInfinity;
        ml.BinaryClassification.Trainers.Torch(numberOfEpochs: 1).Fit(ml.Data.LoadFromEnumerable(rows));
        Assert.IsTrue(warnings.Any(w => w.Contains("skipped 2 rows of the training data", StringComparison.Ordinal) && w.Contains("2 with non-finite features", StringComparison.Ordinal)),
            string.Join(" | ", warnings));
    }

    [TestMethod]
    public void Divergence_HugeLearningRate_EndsTheFitWithAClearError()
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(Rows(400));
        var e = Assert.ThrowsExactly<TrainingDivergedException>(() => ml.BinaryClassification.Trainers.Torch(new TorchBinaryTrainer.Options
        {
            Optimizer = """{"type": "SGD", "lr": 1e6}""", NumberOfEpochs = 5,
        }).Fit(data));
        StringAssert.Contains(e.Message, "TorchBinaryTrainer: training");
        StringAssert.Contains(e.Message, "Lower the learning rate");
        Console.WriteLine(e.Message);
    }

    [TestMethod]
    public void EmptyTrainingData_SaysSo_ForEveryTask()
    {
        var ml = new MLContext(seed: 0);
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<Data.Row>());
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Class").Fit(empty).Transform(empty);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.MulticlassClassification.Trainers.Torch().Fit(keyed));
        StringAssert.Contains(e.Message, "the training data has no rows");
        e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.BinaryClassification.Trainers.Torch("Flag").Fit(empty));
        StringAssert.Contains(e.Message, "the training data has no rows");
        e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Regression.Trainers.Torch("Value").Fit(empty));
        StringAssert.Contains(e.Message, "the training data has no rows");
    }

    [TestMethod]
    public void InvalidOptions_NameTheOptionAndTheFix()
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(Rows(50));
        ArgumentOutOfRangeException Fails(TorchBinaryTrainer.Options o) =>
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.Torch(o).Fit(data));

        var e = Fails(new() { ValidationFraction = 1.5 });
        Assert.AreEqual("ValidationFraction", e.ParamName);
        StringAssert.Contains(e.Message, "ValidationFraction must be in [0, 1)");

        e = Fails(new() { EarlyStoppingPatience = 2 });
        Assert.AreEqual("EarlyStoppingPatience", e.ParamName);
        StringAssert.Contains(e.Message, "set ValidationSet");
        StringAssert.Contains(e.Message, "or ValidationFraction");
        Assert.IsFalse(e.Message.Contains("pass one to Fit", StringComparison.Ordinal), e.Message);

        e = Fails(new() { BatchSize = 0 });
        Assert.AreEqual("BatchSize", e.ParamName);
        StringAssert.Contains(e.Message, "'batch_size' = 0: must be ≥ 1");

        e = Fails(new() { ScheduleInterval = "minute" });
        Assert.AreEqual("ScheduleInterval", e.ParamName);
        e = Fails(new() { Optimizer = """{"type": "Adamm"}""" });
        Assert.AreEqual("Optimizer", e.ParamName);
        e = Fails(new() { Optimizer = "{not json" });
        Assert.AreEqual("Optimizer", e.ParamName);
        e = Fails(new() { LearningRate = -1 });
        Assert.AreEqual("LearningRate", e.ParamName);
        e = Fails(new() { HiddenSizes = [0] });
        Assert.AreEqual("HiddenSizes", e.ParamName);
        e = Fails(new() { Activation = "swish" });
        Assert.AreEqual("Activation", e.ParamName);
        e = Fails(new() { EmaDecay = 1.5 });
        Assert.AreEqual("EmaDecay", e.ParamName, e.Message);
        e = Fails(new() { Device = "tpu" });
        Assert.AreEqual("Device", e.ParamName);

        // Early stopping on train_loss needs no validation data.
        ml.BinaryClassification.Trainers.Torch(new TorchBinaryTrainer.Options { EarlyStoppingPatience = 1, EarlyStoppingMonitor = "train_loss", NumberOfEpochs = 2 }).Fit(data);
    }

    [TestMethod]
    public void FallbackToCpu_LogsTheDeviceActuallyUsedAndWarns()
    {
        var ml = new MLContext(seed: 0);
        var messages = new List<(ChannelMessageKind Kind, string Message)>();
        ml.Log += (_, e) => { if (e.Source.StartsWith("TorchBinaryTrainer", StringComparison.Ordinal)) lock (messages) messages.Add((e.Kind, e.Message)); };
        var data = ml.Data.LoadFromEnumerable(Rows(60));
        var options = new TorchBinaryTrainer.Options { Device = "cuda:0", FallbackToCpu = true, NumberOfEpochs = 1 };
        if (TestEngine.Backend.ResolveDevice(Backend.Device.Cuda(0), true) != Backend.Device.Cpu)
            Assert.Inconclusive("this machine has CUDA: the fallback cannot happen");
        ml.BinaryClassification.Trainers.Torch(options).Fit(data);
        Assert.IsTrue(messages.Any(m => m.Kind == ChannelMessageKind.Warning && m.Message.Contains("training on 'cpu' instead", StringComparison.Ordinal)),
            string.Join(" | ", messages.Select(m => m.Message)));
        var start = messages.First(m => m.Message.Contains(" rows, ", StringComparison.Ordinal)).Message;
        Console.WriteLine(start);
        StringAssert.Contains(start, " on cpu ");
        Assert.IsFalse(start.Contains("cuda", StringComparison.Ordinal), start);

        options.FallbackToCpu = false;
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.BinaryClassification.Trainers.Torch(options).Fit(data));
        StringAssert.Contains(e.Message, "FallbackToCpu");
    }

    [TestMethod]
    public void DocsTable_IsTheMappingOfTheTrainerDeclarations()
    {
        var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "mlnet.md"));
        var table = TorchOptionMapping.Markdown();
        if (Environment.GetEnvironmentVariable("MLLRSCHED_UPDATE_DOCS") == "1" && !doc.Contains(table, StringComparison.Ordinal))
        {
            var begin = doc.IndexOf("<!-- options:begin -->", StringComparison.Ordinal) + "<!-- options:begin -->".Length;
            var end = doc.IndexOf("<!-- options:end -->", StringComparison.Ordinal);
            doc = doc[..begin] + "\n" + table + doc[end..];
            File.WriteAllText(Path.Combine(RepoRoot(), "docs", "mlnet.md"), doc);
        }
        Assert.IsTrue(doc.Contains("<!-- options:begin -->\n" + table + "<!-- options:end -->", StringComparison.Ordinal),
            "docs/mlnet.md's option table (between <!-- options:begin --> and <!-- options:end -->) differs from TorchOptionMapping.Markdown(); " +
            "run the tests with MLLRSCHED_UPDATE_DOCS=1 to regenerate it. Expected:\n" + table);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "MLLrSched.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("repository root");
    }
}
