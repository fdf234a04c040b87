using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Training;
using MLLrSched.Training.Policies;
using MLLrSched.Tests.Shared;

namespace MLLrSched.Tests.PolicySuite;

/// <summary>Models (built from <see cref="ModuleSpec"/>s by the engine's <see cref="IModuleBuilder"/>), small
/// deterministic data and helpers shared by the suite.</summary>
internal static class SuiteFixtures
{
    public static IBackend B => SuiteEngine.Backend;

    public static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>Builds <paramref name="spec"/> on the suite's engine, seeded.</summary>
    public static IModel Build(ModuleSpec spec, long seed = 7)
    {
        var builder = B.TryGet<IModuleBuilder>() ?? throw new AssertFailedException($"engine '{B.Name}' offers no IModuleBuilder");
        B.ManualSeed(seed);
        return builder.Build(spec, Device.Cpu);
    }

    /// <summary>Sequential(Linear(in, hidden), Tanh, Linear(hidden, out)): state_dict keys 0.weight, 0.bias, 2.weight, 2.bias.</summary>
    public static SequentialSpec MlpSpec(int inputs = 8, int hidden = 16, int outputs = 3) =>
        new([new LinearSpec(inputs, hidden), new ActivationSpec("tanh"), new LinearSpec(hidden, outputs)]);

    public static IModel Mlp(int inputs = 8, int hidden = 16, int outputs = 3, long seed = 7) => Build(MlpSpec(inputs, hidden, outputs), seed);

    /// <summary>n samples of uniform features, labels from a fixed linear rule (<see cref="SyntheticData"/>).</summary>
    public static InMemoryDataset Classification(int n, int features = 8, int classes = 3, int seed = 1) =>
        SyntheticData.Classification(n, features, classes, seed);

    /// <summary>n samples, targets = <paramref name="scale"/> × a fixed smooth function of the features.</summary>
    public static InMemoryDataset Regression(int n, int features = 6, int width = 1, int seed = 2, float scale = 1)
    {
        var rng = new Random(seed);
        var x = new float[n * features];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var t = new float[n * width];
        for (var i = 0; i < n; i++)
            for (var k = 0; k < width; k++)
                t[i * width + k] = scale * (float)(Math.Sin(2 * x[i * features + k % features]) - x[i * features + (k + 1) % features] + 0.3 * k);
        return InMemoryDataset.ForRegression(x, [features], t, width, "synthetic-regression");
    }

    /// <summary>The model's parameters and buffers (state_dict order) as host arrays.</summary>
    public static float[][] Weights(IModel model) => ModelState.StateDict(model).Select(t => t.Tensor.ToFloatArray()).ToArray();

    public static float[][] Values(IEnumerable<NamedTensor> tensors) => tensors.Select(t => t.Tensor.ToFloatArray()).ToArray();

    public static void AssertBitEqual(float[][] expected, float[][] actual, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.HasCount(expected[i].Length, actual[i], $"{what}: tensor {i} size");
            for (var j = 0; j < expected[i].Length; j++)
                if (BitConverter.SingleToInt32Bits(expected[i][j]) != BitConverter.SingleToInt32Bits(actual[i][j]))
                    Assert.Fail($"{what}: tensor {i}[{j}] is {actual[i][j]:R}, expected {expected[i][j]:R} bit for bit");
        }
    }

    /// <summary>max |a − e| / max(|e|) over each tensor, the worst tensor.</summary>
    public static (double Rel, string Where) MaxRel(float[][] expected, float[][] actual)
    {
        var d = new Deviation();
        for (var i = 0; i < expected.Length; i++) d.Add($"tensor {i}", actual[i], expected[i]);
        return (d.Rel, d.Where);
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "mllrsched-suite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}

/// <summary>A policy that records, for every optimizer step, what the optimizer is about to see (lr and momentum per
/// group, the gradients) and, after the step and at epoch ends, what other policies produced. It runs where user
/// policies run: after clipping, early stopping, SWA, the schedule and the EMA.</summary>
internal sealed class RecordingPolicy(bool gradients = false, bool weights = false) : StepPolicy
{
    public override string Name => "suite_recorder";
    public List<double[]> Lr { get; } = new();
    public List<double[]> Momentum { get; } = new();
    public List<float[][]> Gradients { get; } = new();
    public List<float[][]> WeightsAfterStep { get; } = new();
    public List<(long Epoch, double? ValLoss, float[][] Weights)> Epochs { get; } = new();
    public Func<TrainingRun, object?>? AfterStepProbe { get; init; }
    public List<object?> Probes { get; } = new();
    public Func<TrainingRun, object?>? EpochProbe { get; init; }
    public List<object?> EpochProbes { get; } = new();

    public override StepVerdict AfterBackward(TrainingRun run, StepInfo step)
    {
        var groups = run.Optimizer.ParamGroups;
        Lr.Add(groups.Select(g => g.Lr).ToArray());
        Momentum.Add(groups.Select(g => g.TryGet("beta1", out var b) ? b : g.TryGet("momentum", out var m) ? m : double.NaN).ToArray());
        if (gradients)
            Gradients.Add(run.Parameters.Select(p =>
            {
                using var g = p.Grad;
                return g?.ToFloatArray() ?? new float[p.NumberOfElements];
            }).ToArray());
        return StepVerdict.Continue;
    }

    public override void AfterStep(TrainingRun run, StepInfo step)
    {
        if (weights) WeightsAfterStep.Add(run.Parameters.Select(p => p.ToFloatArray()).ToArray());
        if (AfterStepProbe != null) Probes.Add(AfterStepProbe(run));
    }

    public override EpochVerdict AtEpochEnd(TrainingRun run, EpochInfo epoch)
    {
        Epochs.Add((epoch.Epoch, epoch.Validation?.Loss, SuiteFixtures.Weights(run.Model)));
        if (EpochProbe != null) EpochProbes.Add(EpochProbe(run));
        return EpochVerdict.Continue;
    }
}

/// <summary>An optimizer whose step adds recorded deltas to the parameters (PyTorch's script did the same by hand), so a
/// golden sequence of weights can be driven through the Trainer and its policies.</summary>
internal sealed class ReplayOptimizer(IReadOnlyList<ITensor> parameters, IReadOnlyList<float[][]> deltas) : IOptimizer
{
    private readonly ParamGroup[] _groups = [new ParamGroup(parameters, new Dictionary<string, double> { ["lr"] = 1.0 })];
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;
    public long StepCount { get; private set; }

    public void Step()
    {
        var b = parameters[0].Backend;
        using var scope = b.NewScope();
        using var noGrad = b.NoGrad();
        var d = deltas[(int)StepCount];
        for (var i = 0; i < parameters.Count; i++)
            parameters[i].Add_(b.FromArray(d[i], parameters[i].Shape, parameters[i].Device));
        StepCount++;
    }

    public double Step(Func<double> closure) => throw new NotSupportedException();
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in parameters) p.Grad = null;
    }
}
