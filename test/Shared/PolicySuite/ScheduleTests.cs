using System.Globalization;
using System.Text;
using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using MLLrSched.Data;
using MLLrSched.Training;

namespace MLLrSched.Tests.PolicySuite;

/// <summary>
/// Schedules through the Trainer (tools/golden/schedules.py): a few cases of every family — PyTorch's lr_scheduler
/// (with momentum cycling, per-group values and composition), Hugging Face's, timm's (warmup, cycles, noise) and the
/// classic forms — run as the trainer's <c>scheduler</c> spec; a recording policy reads, before every optimizer step,
/// the lr (and momentum) each parameter group is about to use, which must equal the golden value of that step within
/// 1e-9 relative (schedules are float64 on the host, so this holds on every engine).
/// </summary>
[TestClass]
public class ScheduleTests
{
    private const double Tolerance = 1e-9;

    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> Cases =>
    [
        ["torch.json", "StepLR/30"], ["torch.json", "MultiStepLR/dense"], ["torch.json", "LinearLR/warmup"],
        ["torch.json", "ExponentialLR/0.995"], ["torch.json", "PolynomialLR/2.5"], ["torch.json", "CosineAnnealingLR/periodic"],
        ["torch.json", "CosineAnnealingWarmRestarts/T_mult2"], ["torch.json", "LambdaLR/per-group"],
        ["torch.json", "CyclicLR/triangular2-asym"], ["torch.json", "OneCycleLR/cos"], ["torch.json", "OneCycleLR/adam-beta1"],
        ["torch.json", "SequentialLR/warmup-cosine"], ["torch.json", "ChainedScheduler/warmup-cosine-periodic"],
        ["hf.json", "hf/linear"], ["hf.json", "hf/cosine"], ["hf.json", "hf/cosine_with_restarts"], ["hf.json", "hf/polynomial"],
        ["hf.json", "hf/inverse_sqrt"], ["hf.json", "hf/cosine_with_min_lr/rate"], ["hf.json", "hf/warmup_stable_decay/cosine"],
        ["timm.json", "timm/cosine/warmup"], ["timm.json", "timm/cosine/cycle_mul"], ["timm.json", "timm/cosine/noise-normal"],
        ["timm.json", "timm/step/warmup"],
        ["classic.json", "classic/noam/512"], ["classic.json", "classic/bert/warmup_linear"], ["classic.json", "classic/detectron2/multistep-linear"],
    ];

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void LrSeenByTheOptimizerFollowsTheGoldenSchedule(string file, string name)
    {
        var c = SuiteGolden.Load(Path.Combine("schedules", file)).GetProperty("cases").EnumerateArray()
            .First(x => x.GetProperty("name").GetString() == name);
        Assert.IsFalse(c.TryGetProperty("mode", out _), $"{name}: only per-step cases run through the trainer here");
        var groups = c.GetProperty("groups").EnumerateArray().ToArray();
        var lr = Rows(c.GetProperty("lr"));
        var momentum = c.TryGetProperty("momentum_values", out var mv) ? Rows(mv) : null;
        var steps = lr.Length;

        // Linear(2, 1): the weight is group 0, the bias ("no_decay") group 1 when the case has two groups. The loss has
        // zero gradients, so even a growing lr leaves the weights finite and the trainer never stops early.
        using var model = SuiteFixtures.Build(new SequentialSpec([new LinearSpec(2, 1)]));
        var recorder = new RecordingPolicy();
        var task = new CustomTask((m, batch, device) =>
        {
            using var x = m.Backend.FromArray(batch.Features, batch.Shape, device);
            using var y = m.Forward(x);
            using var zero = y.Mul(0.0);
            return zero.Sum();
        });
        var options = new TrainerOptions
        {
            Optimizer = SuiteFixtures.Json(OptimizerSpec(c, groups)), Scheduler = SuiteFixtures.Json(c.GetProperty("spec").GetRawText()),
            BatchSize = 4, Epochs = 0, MaxSteps = steps, Shuffle = false, LogEveryNSteps = 1000,
        };
        using var trainer = new Trainer(model, task, options, policies: [recorder]);
        var result = trainer.Fit(SuiteFixtures.Regression(32, features: 2));
        Assert.AreEqual(StopReason.Completed, result.StopReason, result.Message);
        Assert.HasCount(steps, recorder.Lr, "one record per optimizer step");

        double worst = 0;
        var where = "";
        for (var s = 0; s < steps; s++)
            for (var g = 0; g < groups.Length; g++)
            {
                Check(lr[s][g], recorder.Lr[s][g], $"lr at step {s + 1}, group {g}");
                if (momentum != null) Check(momentum[s][g], recorder.Momentum[s][g], $"momentum at step {s + 1}, group {g}");
            }
        TestContext.WriteLine($"{name} through the trainer on {SuiteEngine.Backend.Name}: {steps} steps × {groups.Length} group(s)" +
                              $"{(momentum != null ? " (+ momentum)" : "")}, max relative error {worst:E2} {where}");
        Assert.IsLessThanOrEqualTo(Tolerance, worst, $"{name}: {where}");

        void Check(double expected, double actual, string what)
        {
            var e = expected == actual ? 0 : Math.Abs(expected - actual) / Math.Max(Math.Abs(expected), Math.Abs(actual));
            if (e > worst || double.IsNaN(e)) (worst, where) = (double.IsNaN(e) ? double.PositiveInfinity : e, $"{what}: expected {expected:R}, got {actual:R}");
        }
    }

    private static double[][] Rows(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();

    /// <summary>SGD (or Adam when the case's groups carry betas) with each golden group's lr and momentum.</summary>
    private static string OptimizerSpec(JsonElement c, JsonElement[] groups)
    {
        var adam = groups[0].TryGetProperty("beta1", out _);
        string Settings(JsonElement g)
        {
            var s = new StringBuilder($"\"lr\": {Num(g.GetProperty("lr"))}");
            if (adam) s.Append($", \"betas\": [{Num(g.GetProperty("beta1"))}, {Num(g.GetProperty("beta2"))}]");
            else if (g.TryGetProperty("momentum", out var m)) s.Append($", \"momentum\": {Num(m)}");
            return s.ToString();
        }
        var spec = new StringBuilder($"{{\"type\": \"{(adam ? "Adam" : "SGD")}\", {Settings(groups[0])}");
        if (groups.Length == 2) spec.Append($", \"param_groups\": [{{\"params\": \"no_decay\", {Settings(groups[1])}}}]");
        Assert.IsLessThanOrEqualTo(2, groups.Length, "the model has two parameters");
        return spec.Append('}').ToString();
    }

    private static string Num(JsonElement e) => e.GetDouble().ToString("R", CultureInfo.InvariantCulture);
}
