using System.Text.Json;
using System.Text.Json.Nodes;
using MLLrSched.Backend.Modules;
using MLLrSched.Data;
using MLLrSched.Training;

namespace MLLrSched.Tests.PolicySuite;

/// <summary>
/// LBFGS inside the Trainer (tools/golden/training.py, <c>loops()</c>): the trainer hands its accumulation window to
/// the optimizer as the closure; PyTorch's LBFGS was driven by the same closure by hand — full batch, and two
/// accumulated micro-batches with the strong-Wolfe line search — for 4 steps from the same initial weights.
/// </summary>
/// <remarks>
/// Tolerances: PyTorch's own movement of the final weights across OpenBLAS kernel families × ATen dispatch (measured
/// the way tools/golden/cpu_variation.py measures the optimizers: training.py rerun under each OPENBLAS_CORETYPE and
/// ATEN_CPU_CAPABILITY and compared with the committed set; per tensor max|a − e| / max|e|), times 10; on TorchSharp at
/// least 4× its own measured deviation (tools/golden/torchsharp_tolerances.py, the "loops" section of
/// optimizers/torchsharp.json). With MLLRSCHED_SUITE_RECORD set, a case records its deviation instead of asserting.
/// </remarks>
[TestClass]
public class LbfgsLoopTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>PyTorch's own variation of the final weights, by golden set and case.</summary>
    private static readonly Dictionary<(string Set, string Case), (double Variation, string Kernels)> PyTorchVariation = new()
    {
        // Debian 12's PyTorch 1.13: Sandybridge moved most; SkylakeX 7.0e-6 / 8.1e-6; Zen not at all.
        [("torch-1.13", "lbfgs_full_batch")] = (1.6e-5, "Sandybridge"),
        [("torch-1.13", "lbfgs_strong_wolfe_accumulated")] = (6.2e-4, "Sandybridge"),
        // Debian 13's PyTorch 2.6 (set made on SkylakeX/Cooperlake: 0 there); Haswell and Zen 7.0e-6 / 8.1e-6; ATen's
        // AVX2 and AVX-512 dispatch gave the same numbers.
        [("torch-2.6", "lbfgs_full_batch")] = (1.51e-5, "Sandybridge"),
        [("torch-2.6", "lbfgs_strong_wolfe_accumulated")] = (6.22e-4, "Sandybridge"),
    };

    private static string? RecordFolder => Environment.GetEnvironmentVariable("MLLRSCHED_SUITE_RECORD") is { Length: > 0 } f ? f : null;

    [TestMethod]
    [DataRow("lbfgs_full_batch")]
    [DataRow("lbfgs_strong_wolfe_accumulated")]
    public void LbfgsInTheTrainerMatchesPyTorch(string name)
    {
        var c = SuiteGolden.Load("training/loops.json").GetProperty("cases").EnumerateArray().First(x => x.GetProperty("name").GetString() == name);
        var b = SuiteEngine.Backend;
        var labels = c.GetProperty("y").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        var classes = c.GetProperty("classes").GetInt32();
        var features = (int)SuiteGolden.Shape(c.GetProperty("x"))[1];
        var data = InMemoryDataset.ForClassification(SuiteGolden.Floats(c.GetProperty("x")), [features], labels, classes);
        var hidden = (int)SuiteGolden.Shape(c.GetProperty("init").GetProperty("0.weight"))[0];
        using var model = SuiteFixtures.Build(new SequentialSpec([new LinearSpec(features, hidden), new ActivationSpec("tanh"), new LinearSpec(hidden, classes)]));
        SuiteGolden.SetWeights(model, c.GetProperty("init"));
        var micro = c.GetProperty("micro_batches").GetInt32();
        var spec = "{\"type\": \"LBFGS\"" + string.Concat(c.GetProperty("lbfgs").EnumerateObject().Select(p => $", \"{p.Name}\": {p.Value.GetRawText()}")) + "}";
        var losses = c.GetProperty("losses").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        using var trainer = new Trainer(model, new ClassificationTask(classes), new TrainerOptions
        {
            Optimizer = SuiteFixtures.Json(spec), BatchSize = labels.Length / micro, GradientAccumulationSteps = micro, Shuffle = false,
            Epochs = losses.Length, LogEveryNSteps = 1,
        });
        var result = trainer.Fit(data);
        Assert.AreEqual(StopReason.Completed, result.StopReason, result.Message);
        Assert.AreEqual((long)losses.Length, result.Steps);

        var deviation = new Deviation();
        var final = c.GetProperty("final");
        foreach (var t in ModelState.StateDict(model)) deviation.Add(t.Name, t.Tensor, final.GetProperty(t.Name));
        if (RecordFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "loop-" + name + ".json"), new JsonObject
            {
                ["case"] = name, ["engine"] = SuiteEngine.ToleranceKey, ["golden_set"] = SuiteGolden.Set.Name, ["deviation"] = deviation.Rel,
            }.ToJsonString());
            return;
        }
        var (variation, kernels) = PyTorchVariation[(SuiteGolden.Set.Name, name)];
        var tolerance = 10 * variation;
        var why = $"10 × PyTorch's own variation {variation:G2} ({kernels} kernels)";
        if (MeasuredDeviation(name) is { } measured && 4 * measured > tolerance)
            (tolerance, why) = (4 * measured, $"4 × the deviation measured on this engine, {measured:G2}, exceeds 10 × PyTorch's own variation {variation:G2}");
        TestContext.WriteLine($"{name} on {SuiteEngine.ToleranceKey} vs {SuiteGolden.Set.Name}: {spec}; max deviation {deviation.Rel:G3} at {deviation.Where}; " +
                              $"tolerance {tolerance:G3} ({why})");
        Assert.IsLessThanOrEqualTo(tolerance, deviation.Rel, $"{deviation.Where} ({why})");
    }

    /// <summary>The engine's measured deviation for a loop case, when its tolerance file records one.</summary>
    private static double? MeasuredDeviation(string name)
    {
        var file = SuiteGolden.Load(SuiteEngine.OptimizerTolerances);
        return file.TryGetProperty("loops", out var loops) && loops.TryGetProperty(name, out var m) ? m.GetProperty("measured").GetDouble() : null;
    }
}
