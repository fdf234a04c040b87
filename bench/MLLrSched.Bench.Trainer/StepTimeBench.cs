using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MLLrSched.Data;
using MLLrSched.Models;
using MLLrSched.Torch.Modules;
using MLLrSched.Training;

namespace MLLrSched.Bench.Trainer;

/// <summary>
/// Steady-state optimizer-step time of the built-in MLP and CNN trained by the real <see cref="Training.Trainer"/>,
/// against the same model, data, batch size, threads and policy (AdamW + OneCycleLR + clip_grad_norm_ + EMA every
/// step) in PyTorch 1.13 on the same libtorch. Every measurement runs in a fresh process with the same allocator
/// environment; each round runs every case once, and a case's time is its best round's median (contention on a
/// shared machine only ever slows a measurement down).
/// </summary>
internal static class StepTimeBench
{
    private const double Lr = 0.002, WeightDecay = 0.05, MaxNorm = 1.0, EmaDecay = 0.999, LabelSmoothing = 0.1;

    private static readonly MlpOptions Mlp = new() { InputSize = 784, HiddenSizes = new[] { 512, 256 }, OutputSize = 10, Dropout = 0.2 };
    private static readonly CnnOptions Cnn = new();

    private sealed record Case(string Key, string Name, int Steps, bool Image, string PyTorchCode, double Target);

    /// <summary>The PyTorch loops timed: (label, --loader, --foreach).</summary>
    private static readonly (string Label, string Loader, int Foreach)[] TorchVariants =
    {
        ("index, AdamW default", "index", 0),
        ("index, AdamW foreach", "index", 1),
        ("DataLoader, default", "dataloader", 0),
    };

    public static void Run(BenchOptions o)
    {
        var cases = new[]
        {
            new Case("mlp", "MLP 784-512-256-10", o.MlpSteps, false, ModelFactory.MlpPyTorchCode(Mlp), 0.80),
            new Case("cnn", "CNN 32-64 BN, 128", o.CnnSteps, true, ModelFactory.CnnPyTorchCode(Cnn), 0.95),
        }.Where(c => o.Models.Contains(c.Key)).ToArray();
        foreach (var malloc in o.Malloc)
        {
            Console.WriteLine($"== Training step time, glibc malloc {malloc} " +
                              (malloc == "tuned" ? "(MALLOC_MMAP_THRESHOLD_=32 MiB, MALLOC_TRIM_THRESHOLD_=4 GiB for every process)" : "(no MALLOC_* settings)"));
            Console.WriteLine($"   batch {o.BatchSize}, threads {o.Threads}, AdamW(lr {Lr}, weight_decay {WeightDecay}) + OneCycleLR + clip_grad_norm_({MaxNorm}) " +
                              $"+ EMA({EmaDecay}) every step, cross-entropy with label smoothing {LabelSmoothing}");
            Console.WriteLine($"   step time = median of {o.Every}-step blocks after {o.Warmup} warm-up steps; best round of {o.Rounds}");
            var ours = cases.ToDictionary(c => c.Key, _ => new List<double>());
            var torch = cases.ToDictionary(c => c.Key, _ => TorchVariants.Select(_ => new List<double>()).ToArray());
            for (var round = 1; round <= o.Rounds; round++)
                foreach (var c in cases)
                {
                    var t = Ours(o, c, malloc);
                    if (!double.IsNaN(t)) ours[c.Key].Add(t);
                    var line = $"round {round} {c.Name,-19} MLLrSched {Stats.Ms(t),7} ms";
                    for (var v = 0; v < TorchVariants.Length; v++)
                    {
                        var p = PyTorch(o, c, malloc, TorchVariants[v].Loader, TorchVariants[v].Foreach);
                        if (!double.IsNaN(p)) torch[c.Key][v].Add(p);
                        line += $" | {TorchVariants[v].Label} {Stats.Ms(p),7}";
                    }
                    Console.WriteLine(line);
                }

            Console.WriteLine();
            Console.WriteLine($"{"ms per step",-19} {"MLLrSched",10} " + string.Join(" ", TorchVariants.Select(v => $"{v.Label,21}")) + "   target");
            foreach (var c in cases)
            {
                var t = Best(ours[c.Key]);
                var line = $"{c.Name,-19} {Stats.Ms(t),10} ";
                var ratios = new List<double>();
                for (var v = 0; v < TorchVariants.Length; v++)
                {
                    var p = Best(torch[c.Key][v]);
                    ratios.Add(t / p);
                    line += $" {Stats.Ms(p),9} ({t / p,6:F3}x)";
                }
                var fastest = ratios.Where(r => !double.IsNaN(r)).DefaultIfEmpty(double.NaN).Max();
                var idiomatic = ratios[^1];
                var verdict = fastest <= c.Target ? "met vs every PyTorch loop"
                    : idiomatic <= c.Target ? $"met vs the DataLoader loop only; {fastest:F3}x vs the fastest"
                    : "MISSED";
                Console.WriteLine(line + $"   ≤ {c.Target:F2}x: {verdict}");
            }
            Console.WriteLine("  (ratio) = MLLrSched step time / that PyTorch loop's step time; below 1 is faster.");
            Console.WriteLine("  index = batches by indexing the training tensor with a randperm slice (the fastest hand-written loop);");
            Console.WriteLine("  DataLoader = torch.utils.data.DataLoader(TensorDataset, shuffle=True) (the idiomatic loop);");
            Console.WriteLine("  AdamW default = foreach=None, which 1.13 runs as the single-tensor loop on CPU.");
            Console.WriteLine();
        }
    }

    private static double Best(List<double> values) => values.Count == 0 ? double.NaN : values.Min();

    private static double Ours(BenchOptions o, Case c, string malloc)
    {
        var r = ChildProcess.Ours(o, malloc, new[]
        {
            "--step-child", c.Key, "--batch-size", I(o.BatchSize), "--mlp-steps", I(o.MlpSteps), "--cnn-steps", I(o.CnnSteps),
            "--warmup", I(o.Warmup), "--every", I(o.Every), "--threads", I(o.Threads), "--data", o.Data,
        });
        return r?.GetProperty("step_median").GetDouble() ?? double.NaN;
    }

    private static double PyTorch(BenchOptions o, Case c, string malloc, string loader, int useForeach)
    {
        var r = ChildProcess.PyTorch(o, malloc, new[]
        {
            "train", "--model-code", c.PyTorchCode, "--image", c.Image ? "1" : "0", "--data", o.Data,
            "--batch", I(o.BatchSize), "--steps", I(c.Steps), "--warmup", I(o.Warmup), "--every", I(o.Every),
            "--lr", F(Lr), "--weight-decay", F(WeightDecay), "--max-norm", F(MaxNorm), "--ema-decay", F(EmaDecay),
            "--label-smoothing", F(LabelSmoothing), "--foreach", I(useForeach), "--loader", loader,
        });
        return r?.GetProperty("step_median").GetDouble() ?? double.NaN;
    }

    /// <summary>The child: trains <paramref name="key"/> through the real Trainer and prints {"step_median": seconds}.</summary>
    public static int ChildMain(string key, BenchOptions o)
    {
        MLLrSched.Torch.Torch.NumThreads = o.Threads;
        var image = key == "cnn";
        var data = FashionMnist.Load(o.Data, train: true, imageShape: image);
        MLLrSched.Torch.Torch.ManualSeed(0);
        using Module model = image ? ModelFactory.Cnn(Cnn) : ModelFactory.Mlp(Mlp);
        var options = new TrainerOptions
        {
            Optimizer = Json($$"""{"type": "AdamW", "lr": {{F(Lr)}}, "weight_decay": {{F(WeightDecay)}}}"""),
            Scheduler = Json($$"""{"type": "OneCycleLR", "max_lr": {{F(Lr)}}, "total_steps": "$total_steps"}"""),
            BatchSize = o.BatchSize,
            Epochs = 1000,
            MaxSteps = image ? o.CnnSteps : o.MlpSteps,
            Clipping = new ClippingOptions { MaxNorm = MaxNorm },
            Ema = new EmaOptions { Decay = EmaDecay },
            Threads = o.Threads,
            LogEveryNSteps = o.Every,
            EvaluateEveryEpoch = false,
        };
        using var trainer = new Training.Trainer(model, new ClassificationTask(10, LabelSmoothing), options);
        var stamps = new List<(long Step, long Ticks)>();
        var progress = new Stamp(p => { if (p.Kind == ProgressKind.Step && p.Step % o.Every == 0) stamps.Add((p.Step, Stopwatch.GetTimestamp())); });
        var result = trainer.Fit(data, null, progress);
        var blocks = new List<double>();
        for (var i = 1; i < stamps.Count; i++)
            if (stamps[i - 1].Step >= o.Warmup && stamps[i].Step - stamps[i - 1].Step == o.Every)
                blocks.Add((stamps[i].Ticks - stamps[i - 1].Ticks) / (double)Stopwatch.Frequency / o.Every);
        Console.WriteLine($$"""{"step_median": {{F(Stats.Median(blocks))}}, "blocks": {{blocks.Count}}, "steps": {{result.Steps}}, "total_seconds": {{F(result.Elapsed.TotalSeconds)}}}""");
        return 0;
    }

    private static JsonElement Json(string s)
    {
        using var doc = JsonDocument.Parse(s);
        return doc.RootElement.Clone();
    }

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>A synchronous IProgress (Progress&lt;T&gt; would post to the thread pool and time the post, not the step).</summary>
    private sealed class Stamp(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
