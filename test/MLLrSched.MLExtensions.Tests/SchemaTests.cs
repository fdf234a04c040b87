using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>The Torch trainers' output columns are exactly those of ML.NET's SDCA trainers on the same data, column by
/// column: types, annotation names, annotation types and values.</summary>
[TestClass]
public sealed class SchemaTests
{
    private static string Describe(DataViewSchema.Column c)
    {
        var parts = new List<string> { $"{c.Name}: {c.Type}{(c.IsHidden ? " (hidden)" : "")}" };
        foreach (var a in c.Annotations.Schema)
            parts.Add($"  @{a.Name}: {a.Type} = {AnnotationValue(c.Annotations, a)}");
        return string.Join("\n", parts);
    }

    private static string AnnotationValue(DataViewSchema.Annotations annotations, DataViewSchema.Column a)
    {
        var raw = a.Type.RawType;
        var method = typeof(SchemaTests).GetMethod(nameof(Get), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(raw);
        return (string)method.Invoke(null, [annotations, a.Name])!;
    }

    private static string Get<T>(DataViewSchema.Annotations annotations, string name)
    {
        T value = default!;
        annotations.GetValue(name, ref value);
        return value switch
        {
            VBuffer<ReadOnlyMemory<char>> v => "[" + string.Join(", ", v.DenseValues().Select(x => x.ToString())) + "]",
            VBuffer<float> v => "[" + string.Join(", ", v.DenseValues()) + "]",
            VBuffer<bool> v => "[" + string.Join(", ", v.DenseValues()) + "]",
            VBuffer<uint> v => "[" + string.Join(", ", v.DenseValues()) + "]",
            ReadOnlyMemory<char> m => m.ToString(),
            _ => value?.ToString() ?? "null",
        };
    }

    /// <summary>Every column of the scored output, described.</summary>
    private static string[] Columns(IDataView scored) => scored.Schema.Select(Describe).ToArray();

    private static void AssertSameColumns(IDataView sdca, IDataView torch, string what)
    {
        var expected = Columns(sdca);
        var actual = Columns(torch);
        Console.WriteLine($"--- {what}\n" + string.Join("\n", actual));
        CollectionAssert.AreEqual(expected, actual, $"{what}:\nSDCA:\n{string.Join("\n", expected)}\nTorch:\n{string.Join("\n", actual)}");
    }

    private static readonly TorchMulticlassTrainer.Options Small = new() { HiddenSizes = [8], NumberOfEpochs = 1 };

    [TestMethod]
    public void Multiclass_TextAndFloatLabels_SameColumnsAsSdcaMaximumEntropy()
    {
        var ml = new MLContext(seed: 0);
        var data = Data.View(ml, 200);
        foreach (var label in new[] { nameof(Data.Row.Class), nameof(Data.Row.ClassNumber) })
        {
            var keys = ml.Transforms.Conversion.MapValueToKey("Label", label);
            var sdca = keys.Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(maximumNumberOfIterations: 2))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabelValue", "PredictedLabel")).Fit(data).Transform(data);
            var torch = keys.Append(ml.MulticlassClassification.Trainers.Torch(Small))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabelValue", "PredictedLabel")).Fit(data).Transform(data);
            AssertSameColumns(sdca, torch, "multiclass, label " + label);
        }
    }

    [TestMethod]
    public void BinaryAndRegression_SameColumnsAsSdcaLogisticRegressionAndSdca()
    {
        var ml = new MLContext(seed: 0);
        var data = Data.View(ml, 200);
        AssertSameColumns(
            ml.BinaryClassification.Trainers.SdcaLogisticRegression("Flag", maximumNumberOfIterations: 2).Fit(data).Transform(data),
            ml.BinaryClassification.Trainers.Torch("Flag", numberOfEpochs: 1).Fit(data).Transform(data), "binary");
        AssertSameColumns(
            ml.Regression.Trainers.Sdca("Value", maximumNumberOfIterations: 2).Fit(data).Transform(data),
            ml.Regression.Trainers.Torch("Value", numberOfEpochs: 1).Fit(data).Transform(data), "regression");
    }

    [TestMethod]
    public void EstimatorOutputSchema_IsSdcas()
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", "Class").Fit(Data.View(ml, 20)).Transform(Data.View(ml, 20));
        // SchemaShape.Create is internal to ML.NET; pipelines get shapes this way.
        var shape = (SchemaShape)typeof(SchemaShape).GetMethod("Create", BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static)!.Invoke(null, [data.Schema])!;
        string Show(SchemaShape s) => string.Join("; ", s.Select(c => $"{c.Name} {c.Kind} {c.ItemType} key={c.IsKey} [{string.Join(",", c.Annotations.Select(a => a.Name))}]"));
        Assert.AreEqual(Show(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy().GetOutputSchema(shape)),
            Show(ml.MulticlassClassification.Trainers.Torch().GetOutputSchema(shape)));
    }

    public sealed class ModelInput
    {
        [ColumnName("Label")] public float Label { get; set; }
        [ColumnName("Features"), VectorType(4)] public float[] Features { get; set; } = [];
    }

    public sealed class ModelOutput
    {
        [ColumnName("PredictedLabel")] public float PredictedLabel { get; set; }
        [ColumnName("Score")] public float[] Score { get; set; } = [];
    }

    [TestMethod]
    public void ModelBuilderPair_FloatLabel_PredictsAFloat()
    {
        var ml = new MLContext(seed: 0);
        var rows = Data.Rows(300).Select(r => new ModelInput { Label = r.ClassNumber, Features = r.Features }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Label")
            .Append(ml.MulticlassClassification.Trainers.Torch(new TorchMulticlassTrainer.Options { HiddenSizes = [16], NumberOfEpochs = 20, LearningRate = 0.01 }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel", "PredictedLabel")).Fit(data);
        var engine = ml.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
        var correct = rows.Count(r => engine.Predict(r).PredictedLabel == r.Label);
        var p = engine.Predict(rows[0]);
        Assert.AreEqual(3, p.Score.Length);
        CollectionAssert.Contains(new[] { 1f, 2f, 3f }, p.PredictedLabel);
        Assert.IsTrue(correct > 0.8 * rows.Length, $"{correct} of {rows.Length} correct");
    }
}
