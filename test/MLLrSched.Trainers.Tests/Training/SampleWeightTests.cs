using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Torch.Modules;
using MLLrSched.Training;
using static MLLrSched.Trainers.Tests.Training.TrainerFixtures;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>
/// Sample weights (ML.NET's example weight): a sample of integer weight w trains exactly like the same sample present w
/// times (and weight 0 like an absent one), for cross-entropy with class weights and label smoothing and for
/// regression; accumulation stays exact because the window is normalised by its total weight.
/// </summary>
[TestClass]
public sealed class SampleWeightTests
{
    private static readonly float[] IntegerWeights = [1, 0, 2, 3, 1, 0, 1, 2, 1, 1, 3, 1, 2, 0, 1, 1];

    /// <summary>Sample i repeated weights[i] times, in order (the unweighted equivalent).</summary>
    private static InMemoryDataset Repeat(InMemoryDataset d, float[] weights)
    {
        var idx = Enumerable.Range(0, d.Count).SelectMany(i => Enumerable.Repeat(i, (int)weights[i])).ToArray();
        var b = d.GetBatch(idx);
        return b.ClassLabels != null
            ? InMemoryDataset.ForClassification(b.Features, d.SampleShape, b.ClassLabels, d.ClassCount, "repeated")
            : InMemoryDataset.ForRegression(b.Features, d.SampleShape, b.Targets!, d.TargetWidth, "repeated");
    }

    /// <summary>The gradient of one optimizer step over the whole dataset (batch × accumulation covering it once).</summary>
    private static float[][] OneStepGradient(InMemoryDataset data, ITrainingTask task, int batch, int accumulation, Sequential model)
    {
        var opt = new RecordingOptimizer(OptimizerFactory.Create("""{"type": "SGD", "lr": 0.1}""", ((MLLrSched.Backend.IModel)model).NamedParameters()));
        using var trainer = new Trainer(model, task, new TrainerOptions
        {
            BatchSize = batch, GradientAccumulationSteps = accumulation, Epochs = 1, MaxSteps = 1, Shuffle = false, LogEveryNSteps = 1000,
        }, opt);
        trainer.Fit(data);
        Assert.HasCount(1, opt.Gradients);
        return opt.Gradients[0];
    }

    [TestMethod]
    public void ClassificationWeightsEqualRepeatedSamplesWithClassWeightsAndLabelSmoothing()
    {
        var data = Classification(IntegerWeights.Length);
        var weighted = data.WithSampleWeights(IntegerWeights);
        var repeated = Repeat(data, IntegerWeights);
        var task = new ClassificationTask(3, labelSmoothing: 0.1, classWeights: [0.5, 2.0, 1.0]);
        using var m1 = Mlp();
        using var m2 = Mlp();
        // weighted: 16 samples in micro-batches of 5 (5, 5, 5, 1) accumulated; repeated: one batch of all 23.
        var a = OneStepGradient(weighted, task, 5, 4, m1);
        var b = OneStepGradient(repeated, task, repeated.Count, 1, m2);
        AssertClose(b, a, 1e-6, "weighted vs repeated gradient");
    }

    [TestMethod]
    public void RegressionWeightsEqualRepeatedSamples()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, IntegerWeights.Length * 8).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var t = Enumerable.Range(0, IntegerWeights.Length * 3).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var data = InMemoryDataset.ForRegression(x, [8], t, 3, "regression");
        var task = new RegressionTask(3, "smooth_l1", beta: 0.5);
        using var m1 = Mlp(outputs: 3);
        using var m2 = Mlp(outputs: 3);
        var repeated = Repeat(data, IntegerWeights);
        var a = OneStepGradient(data.WithSampleWeights(IntegerWeights), task, 3, 6, m1);
        var b = OneStepGradient(repeated, task, repeated.Count, 1, m2);
        AssertClose(b, a, 1e-6, "weighted vs repeated gradient");
    }

    [TestMethod]
    public void FractionalWeightsAccumulateToTheBigBatchGradient()
    {
        var data = Classification(13).WithSampleWeights(Enumerable.Range(0, 13).Select(i => 0.25f + (i % 4) * 0.5f).ToArray());
        var task = new ClassificationTask(3);
        using var m1 = Mlp();
        using var m2 = Mlp();
        AssertClose(OneStepGradient(data, task, 13, 1, m2), OneStepGradient(data, task, 4, 4, m1), 1e-6, "accumulated vs big batch");
    }

    [TestMethod]
    public void EvaluationLossIsTheWeightedMean()
    {
        var data = Classification(IntegerWeights.Length);
        var task = new ClassificationTask(3);
        using var model = Mlp();
        using var trainer = new Trainer(model, task, new TrainerOptions { Epochs = 1, MaxSteps = 1 });
        var weighted = trainer.Evaluate(data.WithSampleWeights(IntegerWeights));
        var repeated = trainer.Evaluate(Repeat(data, IntegerWeights));
        Assert.AreEqual(repeated.Loss, weighted.Loss, 1e-6 * Math.Abs(repeated.Loss));
    }

    [TestMethod]
    public void WeightsTravelWithSubsetsAndBatches()
    {
        var w = Enumerable.Range(0, 20).Select(i => (float)i + 1).ToArray();
        var data = Classification(20).WithSampleWeights(w);
        CollectionAssert.AreEqual(w, data.SampleWeights!.ToArray());
        CollectionAssert.AreEqual(new float[] { 4, 1, 8 }, data.GetBatch([3, 0, 7]).SampleWeights);
        var first = data.Take(5);
        CollectionAssert.AreEqual(w[..5], first.SampleWeights!.ToArray());
        var (train, validation) = data.Split(0.25, seed: 1);
        Assert.AreEqual(w.Sum(), train.SampleWeights!.Sum() + validation.SampleWeights!.Sum());
        Assert.IsNull(Classification(5).GetBatch([0, 1]).SampleWeights);
    }

    [TestMethod]
    public void InvalidWeightsAreRefusedNamingTheSample()
    {
        var data = Classification(4, seed: 2);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => data.WithSampleWeights([1, 1, 1])).Message, "4 samples but 3 sample weights");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => data.WithSampleWeights([1, -1, 1, 1])).Message, "the weight of sample 1 is -1");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => data.WithSampleWeights([1, 1, float.NaN, 1])).Message, "sample 2 is NaN");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => data.WithSampleWeights([0, 0, 0, 0])).Message, "every sample weight is 0");
    }
}
