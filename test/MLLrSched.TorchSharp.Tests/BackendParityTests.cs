using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Models;
using MLLrSched.Torch;
using MLLrSched.Training;
using MLLrSched.TorchSharpBackend;
using TorchSharp;
using NativeTensor = MLLrSched.Torch.Tensor;
using TorchTensor = TorchSharp.torch.Tensor;

namespace MLLrSched.TorchSharp.Tests;

/// <summary>
/// A TorchSharp module trained by the MLLrSched trainer (AdamW, warmup-cosine, accumulation, clipping, EMA) follows the
/// same loss curve as the built-in native model from the same initial weights and the same batches. Both backends run
/// the same libtorch, so the only differences are the code paths (fused kernels natively, tensor ops here).
/// </summary>
[TestClass]
public sealed class BackendParityTests
{
    private const int Hidden = 64;

    private static TrainerOptions Options() => new()
    {
        Optimizer = Json("""{"type": "AdamW", "lr": 0.003, "weight_decay": 0.05}"""),
        Scheduler = Json("""{"type": "cosine", "num_warmup_steps": 5, "num_training_steps": "$total_steps"}"""),
        BatchSize = 32,
        GradientAccumulationSteps = 3,
        Epochs = 2,
        Clipping = new ClippingOptions { MaxNorm = 1.0 },
        Ema = new EmaOptions { Decay = 0.9 },
        LogEveryNSteps = 1,
        Seed = 7,
    };

    private static JsonElement Json(string s)
    {
        using var d = JsonDocument.Parse(s);
        return d.RootElement.Clone();
    }

    private static torch.nn.Module<TorchTensor, TorchTensor> TorchSharpMlp(int inputs, int classes) =>
        torch.nn.Sequential(("0", torch.nn.Linear(inputs, Hidden)), ("1", torch.nn.ReLU()), ("2", torch.nn.Linear(Hidden, classes)));

    /// <summary>Copies every named parameter of the native model into the TorchSharp model (names must agree).</summary>
    private static void CopyWeights(IModel from, IModel to)
    {
        var source = from.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor);
        var target = to.NamedParameters();
        CollectionAssert.AreEquivalent(source.Keys.ToArray(), target.Select(t => t.Name).ToArray(), "parameter names differ");
        using var noGrad = to.Backend.NoGrad();
        foreach (var t in target)
        {
            var src = source[t.Name];
            using var copy = to.Backend.FromArray(src.ToFloatArray(), src.Shape, Device.Cpu);
            t.Tensor.Copy_(copy);
        }
    }

    [TestMethod]
    public void TorchSharpModule_MatchesNativeBackend_LossCurveEmaAndWeights()
    {
        var all = FashionMnist.Load(train: true);
        var train = all.Take(1200);
        var validation = FashionMnist.Load(train: false).Take(500);

        Torch.Torch.ManualSeed(3);
        using var native = ModelFactory.Mlp(new MlpOptions { InputSize = 784, HiddenSizes = new[] { Hidden }, OutputSize = 10 });
        using var sharp = new TorchSharpModel(TorchSharpMlp(784, 10), ownsModule: true);
        CopyWeights(native, sharp);

        TrainingResult nativeResult, sharpResult;
        using (var trainer = new Trainer(native, new ClassificationTask(10), Options()))
            nativeResult = trainer.Fit(train, validation);
        using (var trainer = new Trainer(sharp, new ClassificationTask(10), Options()))
            sharpResult = trainer.Fit(train, validation);

        var a = nativeResult.History.Where(p => p.Kind == ProgressKind.Step).ToArray();
        var b = sharpResult.History.Where(p => p.Kind == ProgressKind.Step).ToArray();
        Assert.AreEqual(26, a.Length, "2 epochs of 38 batches in windows of 3 = 2 × 13 optimizer steps");
        Assert.AreEqual(a.Length, b.Length);
        for (var i = 0; i < a.Length; i++)
        {
            Assert.AreEqual(a[i].Step, b[i].Step);
            Assert.AreEqual(a[i].Lr, b[i].Lr, 1e-12, $"lr at step {a[i].Step}");
            AssertClose(a[i].Loss, b[i].Loss, $"loss at step {a[i].Step}");
            AssertClose(a[i].GradNorm, b[i].GradNorm, $"grad norm at step {a[i].Step}");
        }
        Assert.IsTrue(a[^1].Loss < a[0].Loss, $"training should lower the loss: {a[0].Loss} → {a[^1].Loss}");
        AssertClose(nativeResult.Validation!.Value.Loss, sharpResult.Validation!.Value.Loss, "validation loss");
        AssertClose(nativeResult.EmaValidation!.Value.Loss, sharpResult.EmaValidation!.Value.Loss, "EMA validation loss");

        var nativeWeights = ((IModel)native).NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.ToFloatArray());
        foreach (var p in sharp.NamedParameters())
        {
            var w = p.Tensor.ToFloatArray();
            var expected = nativeWeights[p.Name];
            for (var i = 0; i < w.Length; i++)
                Assert.AreEqual(expected[i], w[i], 1e-5f, $"{p.Name}[{i}] after training");
        }
    }

    // Float32 training: the two paths may round differently in the last bit, and differences stay at that level.
    private static void AssertClose(double expected, double actual, string what) =>
        Assert.AreEqual(expected, actual, 1e-5 * Math.Max(1, Math.Abs(expected)), what);
}
