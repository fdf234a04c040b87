using System.Diagnostics;
using MLLrSched.Data;
using MLLrSched.Tests.PolicySuite;
using MLLrSched.Training;
using MLLrSched.Training.Policies;
using TorchSharp;
using static TorchSharp.torch;

namespace MLLrSched.TorchSharp.Tests.Training;

/// <summary>
/// A long TorchSharp training run keeps a flat memory profile: 100,000 optimizer steps of a tiny MLP on small batches
/// through the Trainer (AdamW, OneCycleLR, clipping, EMA) keep the process's resident memory within 20 MB of where it
/// was after the first 5% of the run, and TorchSharp's count of live tensor objects exactly constant — nothing is left
/// to the finalizer. A hand-written TorchSharp loop (dispose scope per step, torch.optim.AdamW, clip_grad_norm_) is
/// measured the same way for the record, without asserting on it. MLLRSCHED_MEMORY_STEPS sets another length.
/// </summary>
[TestClass]
public sealed class LongRunMemoryTests
{
    public TestContext TestContext { get; set; } = null!;

    private static int Steps => int.TryParse(Environment.GetEnvironmentVariable("MLLRSCHED_MEMORY_STEPS"), out var n) && n >= 1000 ? n : 100_000;

    private static long RssBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }

    /// <summary>(step, live tensors, RSS) every twentieth of the run; the first probe is the baseline.</summary>
    private sealed record Probe(long Step, long LiveTensors, long Rss, double Seconds)
    {
        /// <summary>The .NET heap's committed size at the probe (what of the RSS is managed).</summary>
        public long ManagedHeap { get; } = GC.GetGCMemoryInfo().HeapSizeBytes;
    }

    private sealed class Prober(long every, Stopwatch clock) : StepPolicy
    {
        public List<Probe> Probes { get; } = new();
        public override string Name => "suite_memory";
        public override void AfterStep(TrainingRun run, StepInfo step)
        {
            if (run.Step % every == 0) Probes.Add(new Probe(run.Step, Tensor.TotalCount, RssBytes(), clock.Elapsed.TotalSeconds));
        }
    }

    private string Table(IReadOnlyList<Probe> probes) => string.Join("; ", probes.Select(p =>
        $"{p.Step}: {p.LiveTensors} tensors, RSS {p.Rss / 1048576.0:F1} MB (.NET heap {p.ManagedHeap / 1048576.0:F1}), {p.Seconds:F1} s"));

    [TestMethod]
    public void TrainerRun_100kSteps_KeepsRssAndLiveTensorsFlat()
    {
        if (!File.Exists("/proc/self/status")) Assert.Inconclusive("no /proc/self/status (not Linux)");
        var steps = Steps;
        var data = SuiteFixtures.Classification(4096, features: 8, classes: 3, seed: 21);
        using var model = SuiteFixtures.Mlp(8, 16, 3);
        var clock = Stopwatch.StartNew();
        var prober = new Prober(steps / 20, clock);
        using (var trainer = new Trainer(model, new ClassificationTask(3), new TrainerOptions
        {
            Optimizer = SuiteFixtures.Json("""{"type": "AdamW", "lr": 0.003, "weight_decay": 0.01}"""),
            Scheduler = SuiteFixtures.Json("""{"type": "OneCycleLR", "max_lr": 0.003, "total_steps": "$total_steps"}"""),
            BatchSize = 8, Epochs = 0, MaxSteps = steps, Seed = 4, LogEveryNSteps = steps,
            Clipping = new ClippingOptions { MaxNorm = 1.0 }, Ema = new EmaOptions { Decay = 0.999 },
        }, policies: [prober]))
        {
            var result = trainer.Fit(data);
            Assert.AreEqual((long)steps, result.Steps, result.Message);
        }
        var p = prober.Probes;
        TestContext.WriteLine($"Trainer on TorchSharp, {steps} steps in {clock.Elapsed.TotalSeconds:F1} s " +
                              $"({clock.Elapsed.TotalMilliseconds * 1000 / steps:F0} µs/step): {Table(p)}");
        Assert.HasCount(20, p);
        var baseline = p[0];
        var growth = p.Max(x => x.Rss) - baseline.Rss;
        Assert.IsLessThan(20L << 20, growth, $"RSS grew by {growth / 1048576.0:F1} MB after step {baseline.Step}: {Table(p)}");
        Assert.IsTrue(p.All(x => x.LiveTensors == baseline.LiveTensors), $"live tensor objects changed: {Table(p)}");
    }

    /// <summary>For the record: the same model, data and length as a hand-written TorchSharp loop, the way TorchSharp's
    /// documentation recommends (a dispose scope per step). Reports memory and speed; asserts nothing about them.</summary>
    [TestMethod]
    public void HandWrittenTorchSharpLoop_ForTheRecord()
    {
        if (!File.Exists("/proc/self/status")) Assert.Inconclusive("no /proc/self/status (not Linux)");
        var steps = Steps;
        var data = SuiteFixtures.Classification(4096, features: 8, classes: 3, seed: 21);
        var features = data.Features.ToArray();
        var labels = data.ClassLabels!.ToArray();
        torch.random.manual_seed(7).Dispose();
        using var model = nn.Sequential(("0", nn.Linear(8, 16)), ("1", nn.Tanh()), ("2", nn.Linear(16, 3)));
        using var optimizer = optim.AdamW(model.parameters(), lr: 0.003, weight_decay: 0.01);
        var clock = Stopwatch.StartNew();
        var probes = new List<Probe>();
        var batchX = new float[8 * 8];
        var batchY = new long[8];
        var rng = new Random(4);
        for (var step = 1; step <= steps; step++)
        {
            for (var i = 0; i < 8; i++)
            {
                var j = rng.Next(data.Count);
                Array.Copy(features, j * 8, batchX, i * 8, 8);
                batchY[i] = labels[j];
            }
            using (var scope = NewDisposeScope())
            {
                var x = torch.tensor(batchX, [8, 8]);
                var y = torch.tensor(batchY, [8]);
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.forward(x), y);
                loss.backward();
                nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                optimizer.step();
            }
            if (step % (steps / 20) == 0) probes.Add(new Probe(step, Tensor.TotalCount, RssBytes(), clock.Elapsed.TotalSeconds));
        }
        var growth = probes.Max(x => x.Rss) - probes[0].Rss;
        TestContext.WriteLine($"hand-written TorchSharp loop, {steps} steps in {clock.Elapsed.TotalSeconds:F1} s " +
                              $"({clock.Elapsed.TotalMilliseconds * 1000 / steps:F0} µs/step); RSS growth after step {probes[0].Step}: " +
                              $"{growth / 1048576.0:F1} MB; live tensors {probes[0].LiveTensors} → {probes[^1].LiveTensors}: {Table(probes)}");
    }
}
