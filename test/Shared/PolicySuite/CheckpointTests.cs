using System.Diagnostics;
using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using MLLrSched.Data;
using MLLrSched.Tests.Shared;
using MLLrSched.Training;
using static MLLrSched.Tests.PolicySuite.SuiteFixtures;

namespace MLLrSched.Tests.PolicySuite;

/// <summary>
/// Checkpoints on the suite's engine: a run interrupted and resumed from its checkpoint in the same process ends
/// bit-identical to the uninterrupted run (weights, EMA, optimizer state); the checkpoint and a saved state_dict open
/// in PyTorch (the machine's python3: 1.13 on Debian 12, 2.6 in the Debian 13 root) with <c>torch.load</c> and load into
/// the same network built with torch.nn; and a <c>torch.save(model.state_dict())</c> file loads into the engine's model
/// (<see cref="ModelState.Load"/>).
/// </summary>
[TestClass]
public class CheckpointTests
{
    public TestContext TestContext { get; set; } = null!;

    // Linear(8, 16), Tanh, Dropout(0.2), Linear(16, 3): dropout makes the random state part of what must resume.
    private static IModel Model(long seed = 7) =>
        Build(new SequentialSpec([new LinearSpec(8, 16), new ActivationSpec("tanh"), new DropoutSpec(0.2), new LinearSpec(16, 3)]), seed);

    private static TrainerOptions Options(string? checkpoint) => new()
    {
        Optimizer = Json("""{"type": "AdamW", "lr": 0.01, "weight_decay": 0.05}"""),
        Scheduler = Json("""{"type": "OneCycleLR", "max_lr": 0.02, "total_steps": "$total_steps"}"""),
        BatchSize = 8, GradientAccumulationSteps = 2, Epochs = 3, Seed = 5, LogEveryNSteps = 1,
        Clipping = new ClippingOptions { MaxNorm = 1.0 },
        Ema = new EmaOptions { Decay = 0.95, UseWarmup = true },
        EarlyStopping = new EarlyStoppingOptions { Patience = 50 },
        Checkpoint = new CheckpointOptions { Path = checkpoint },
    };

    private sealed record Outcome(float[][] Weights, float[][] Ema, float[][] OptimizerState, long Steps);

    private static float[][] OptimizerValues(Trainer trainer)
    {
        using var state = trainer.Optimizer.StateDict();
        return state.State.OrderBy(kv => kv.Key).SelectMany(kv => kv.Value.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Value switch
        {
            ITensor t => t.ToFloatArray(),
            long l => [l],
            double d => [(float)d],
            _ => [],
        })).ToArray();
    }

    private static Outcome Finish(IModel model, Trainer trainer) =>
        new(Weights(model), Values(trainer.Ema!.Parameters), OptimizerValues(trainer), trainer.StepCount);

    [TestMethod]
    public void ResumeInProcessIsBitIdentical()
    {
        var data = Classification(120);
        var validation = Classification(30, seed: 3);
        Outcome expected;
        using (var model = Model())
        using (var trainer = new Trainer(model, new ClassificationTask(3), Options(null)))
        {
            trainer.Fit(data, validation);
            expected = Finish(model, trainer);
        }

        var dir = TempDir();
        var path = Path.Combine(dir, "checkpoint.pt");
        try
        {
            using (var model = Model())
            using (var trainer = new Trainer(model, new ClassificationTask(3), Options(path)))
            using (var cts = new CancellationTokenSource())
                Assert.ThrowsExactly<OperationCanceledException>(() => trainer.Fit(data, validation, new SyncProgress(p =>
                {
                    if (p.Kind == ProgressKind.Step && p.Step == 11) cts.Cancel();
                }), cts.Token));

            // Another initialisation proves the checkpoint, not the seed, restores the weights.
            using var resumedModel = Model(seed: 99);
            using var resumed = new Trainer(resumedModel, new ClassificationTask(3), Options(path));
            resumed.LoadCheckpoint(path);
            Assert.AreEqual(11L, resumed.StepCount);
            var result = resumed.Fit(data, validation);
            Assert.AreEqual(StopReason.Completed, result.StopReason, result.Message);
            var actual = Finish(resumedModel, resumed);
            Assert.AreEqual(expected.Steps, actual.Steps);
            AssertBitEqual(expected.Weights, actual.Weights, "weights after resume");
            AssertBitEqual(expected.Ema, actual.Ema, "EMA after resume");
            AssertBitEqual(expected.OptimizerState, actual.OptimizerState, "optimizer state after resume");
            TestContext.WriteLine($"{B.Name}: {actual.Steps} steps, resumed at 11 from {new FileInfo(path).Length} bytes; weights, EMA and " +
                                  $"{expected.OptimizerState.Length} optimizer state entries bit-identical");
        }
        finally { Directory.Delete(dir, true); }
    }

    // ------------------------------------------------------------------ PyTorch reads and writes

    private sealed record Interop(JsonElement Result, float[][] Weights, float[][] Ema, float[][] OptimizerState, string[] StateDictOrder,
        string StateDictFile, string Folder);

    private static readonly Lazy<Interop> Shared = new(RunInterop);

    /// <summary>Trains one epoch with a checkpoint, saves the weights with <see cref="ModelState.Save"/>, and runs
    /// interop.py once with the machine's python3 (inconclusive, saying why, where it has no torch).</summary>
    private static Interop RunInterop()
    {
        var python = LivePyTorch.Python;
        if (!File.Exists(python)) throw new AssertInconclusiveException($"{python} is not installed (set MLLRSCHED_PYTHON to a python with torch)");
        var dir = TempDir();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch (IOException) { } };
        var checkpoint = Path.Combine(dir, "checkpoint.pt");
        var weights = Path.Combine(dir, "weights.pt");
        using var model = Model();
        using var trainer = new Trainer(model, new ClassificationTask(3), Options(checkpoint) with { EarlyStopping = null, Epochs = 1 });
        trainer.Fit(Classification(40));
        ModelState.Save(model, weights);
        var outcome = Finish(model, trainer);
        var stateDict = Path.Combine(dir, "torch_save.pt");
        var json = Path.Combine(dir, "result.json");
        var psi = new ProcessStartInfo(python, [Path.Combine(AppContext.BaseDirectory, "PolicySuite", "interop.py"), checkpoint, weights, stateDict, json])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0 && stderr.Contains("No module named 'torch'")) throw new AssertInconclusiveException($"{python} has no torch module");
        Assert.AreEqual(0, p.ExitCode, $"interop.py failed: {stdout.Result}{stderr}");
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        return new Interop(doc.RootElement.Clone(), outcome.Weights, outcome.Ema, outcome.OptimizerState,
            ModelState.StateDict(model).Select(t => t.Name).ToArray(), stateDict, dir);
    }

    private static float[] Floats(JsonElement list) => list.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();

    [TestMethod]
    public void PyTorchLoadsTheCheckpointIntoTorchNnAndTorchOptim()
    {
        var r = Shared.Value;
        var res = r.Result;
        var torchVersion = res.GetProperty("torch_version").GetString()!;
        var safe = res.GetProperty("weights_only").EnumerateArray().Select(x => x.GetBoolean()).ToArray();
        TestContext.WriteLine($"checkpoint written on {B.Name}, read by torch {torchVersion} (weights_only: {string.Join(", ", safe)})");
        // torch 2.x loads with weights_only=True by default (2.6): the checkpoint and the weights must pass its safe unpickler.
        if (!torchVersion.StartsWith("1.", StringComparison.Ordinal)) CollectionAssert.AreEqual(new[] { true, true }, safe, "torch.load(weights_only=True)");
        Assert.AreEqual(Trainer.CheckpointFormat, res.GetProperty("format").GetString());
        CollectionAssert.IsSubsetOf(new[] { "model", "optimizer", "policies", "rng", "trainer" }, res.GetProperty("keys").EnumerateArray().Select(k => k.GetString()).ToArray());
        CollectionAssert.AreEqual(r.StateDictOrder, res.GetProperty("model_order").EnumerateArray().Select(k => k.GetString()).ToArray(), "state_dict order");
        var model = res.GetProperty("model");
        AssertBitEqual(r.Weights, r.StateDictOrder.Select(n => Floats(model.GetProperty(n))).ToArray(), "torch.load(checkpoint)['model']");
        AssertBitEqual(r.Weights, r.StateDictOrder.Select(n => Floats(res.GetProperty("weights").GetProperty(n))).ToArray(), "torch.load(ModelState.Save file)");
        // torch.optim.AdamW took the optimizer state as its own (state per parameter, in our order) and could step from it.
        var optimizer = res.GetProperty("optimizer_state");
        var fromPython = optimizer.EnumerateObject().OrderBy(p => long.Parse(p.Name)).SelectMany(p => p.Value.EnumerateObject().OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => e.Value.ValueKind == JsonValueKind.Array ? Floats(e.Value) : [(float)e.Value.GetDouble()])).ToArray();
        AssertBitEqual(r.OptimizerState, fromPython, "torch.optim.AdamW.load_state_dict(checkpoint['optimizer'])");
        Assert.IsTrue(res.GetProperty("stepped").GetBoolean(), "AdamW stepped from the loaded state");
        CollectionAssert.Contains(res.GetProperty("policies").EnumerateArray().Select(k => k.GetString()).ToArray(), "ema");
        var ema = res.GetProperty("ema");
        var parameterNames = r.StateDictOrder.Where(n => ema.TryGetProperty(n, out _)).Take(r.Ema.Length).ToArray();
        AssertBitEqual(r.Ema, parameterNames.Select(n => Floats(ema.GetProperty(n))).ToArray(), "the EMA section");
    }

    [TestMethod]
    public void TorchSaveStateDictLoadsIntoTheEnginesModel()
    {
        var r = Shared.Value;
        var written = r.Result.GetProperty("torch_save");
        using var model = Model(seed: 42);
        ModelState.Load(model, r.StateDictFile);
        var state = written.GetProperty("state");
        var names = ModelState.StateDict(model).Select(t => t.Name).ToArray();
        AssertBitEqual(names.Select(n => Floats(state.GetProperty(n))).ToArray(), Weights(model), "ModelState.Load(torch.save file)");
        model.SetTraining(false);
        using var scope = B.NewScope();
        using var noGrad = B.NoGrad();
        var x = B.FromArray(Floats(written.GetProperty("x")), [5, 8], Device.Cpu);
        var y = model.Forward(x).ToFloatArray();
        var (rel, where) = MaxRel([Floats(written.GetProperty("y"))], [y]);
        TestContext.WriteLine($"torch {r.Result.GetProperty("torch_version").GetString()}'s state_dict on {B.Name}: eval output within {rel:G3} of PyTorch's");
        // Same weights, another libtorch build (and BLAS) for the products: equal to float32 rounding.
        Assert.IsLessThanOrEqualTo(1e-6, rel, where);
    }
}

/// <summary>Reports progress synchronously, on the training thread (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
