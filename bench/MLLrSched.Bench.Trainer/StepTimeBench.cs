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

    private sealed record Case(string Key, string Name, int Steps, int Warmup, bool Image, string PyTorchCode, double Target);

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
            new Case("mlp", "MLP 784-512-256-10", o.MlpSteps, o.Warmup, false, ModelFactory.MlpPyTorchCode(Mlp), 0.80),
            new Case("cnn", "CNN 32-64 BN, 128", o.CnnSteps, o.CnnWarmup, true, ModelFactory.CnnPyTorchCode(Cnn), 0.95),
        }.Where(c => o.Models.Contains(c.Key)).ToArray();
        foreach (var mode in o.Env)
        {
            Console.WriteLine($"== Training step time, {mode} environment ({ChildProcess.Describe(mode)})");
            Console.WriteLine($"   batch {o.BatchSize}, threads {o.Threads}, AdamW(lr {Lr}, weight_decay {WeightDecay}) + OneCycleLR + clip_grad_norm_({MaxNorm}) " +
                              $"+ EMA({EmaDecay}) every step, cross-entropy with label smoothing {LabelSmoothing}");
            Console.WriteLine($"   MLLrSched and {TorchVariants.Length} PyTorch loops run as {1 + TorchVariants.Length} processes taking turns in blocks of {o.Every} steps " +
                              $"(rotating order, {o.GapMs} ms pause between turns);");
            Console.WriteLine($"   the first {o.Warmup} MLP / {o.CnnWarmup} CNN steps (about a second: JIT tiering, caches) are left out; {o.Rounds} round(s)");
            var names = new[] { "MLLrSched" }.Concat(TorchVariants.Select(v => "PyTorch " + v.Label)).ToArray();
            var summary = new List<string>();
            foreach (var c in cases)
            {
                // per contender: seconds per step of each block; per PyTorch loop: paired ratios ours / theirs
                var times = names.Select(_ => new List<double>()).ToArray();
                var ratios = TorchVariants.Select(_ => new List<double>()).ToArray();
                for (var round = 1; round <= o.Rounds; round++)
                {
                    using var run = new PairedRun();
                    var env = ChildProcess.Environment(mode);
                    run.Add(names[0], ChildProcess.SelfPath, ChildProcess.SelfArgs().Concat(new[]
                    {
                        "--step-child", c.Key, "--paired", "--batch-size", I(o.BatchSize), "--mlp-steps", I(o.MlpSteps),
                        "--cnn-steps", I(o.CnnSteps), "--warmup", I(o.Warmup), "--cnn-warmup", I(o.CnnWarmup), "--every", I(o.Every), "--threads", I(o.Threads), "--data", o.Data,
                    }), env);
                    for (var v = 0; v < TorchVariants.Length; v++)
                        run.Add(names[v + 1], o.Python, TorchArgs(o, c, TorchVariants[v].Loader, TorchVariants[v].Foreach), env);
                    var blocks = run.Run(c.Steps / o.Every, TimeSpan.FromMilliseconds(o.GapMs));
                    var skip = (c.Warmup + o.Every - 1) / o.Every;
                    if (Environment.GetEnvironmentVariable("MLLRSCHED_BENCH_DUMP") == "1")
                        for (var i = 0; i < names.Length; i++) Console.WriteLine($"  {names[i]}: " + string.Join(" ", blocks[i].Select(t => Stats.Ms(t / o.Every))));
                    for (var i = 0; i < names.Length; i++) times[i].AddRange(blocks[i].Skip(skip).Select(t => t / o.Every));
                    for (var v = 0; v < TorchVariants.Length; v++)
                        ratios[v].AddRange(blocks[0].Zip(blocks[v + 1], (a, b) => a / b).Skip(skip));
                    Console.WriteLine($"round {round} {c.Name,-19} " + string.Join(" | ", names.Select((n, i) =>
                        $"{n} {Stats.Ms(Stats.Median(blocks[i].Skip(skip).Select(t => t / o.Every).ToList()))} ms")));
                }
                var line = $"{c.Name,-19} {Stats.Ms(Stats.Median(times[0])),10} ";
                var medianRatios = ratios.Select(Stats.Median).ToArray();
                for (var v = 0; v < TorchVariants.Length; v++)
                    line += $" {Stats.Ms(Stats.Median(times[v + 1])),9} ({medianRatios[v],6:F3}x)";
                var fastest = medianRatios.Max();
                var verdict = fastest <= c.Target ? "met vs every PyTorch loop"
                    : medianRatios[^1] <= c.Target ? $"met vs the DataLoader loop only ({fastest:F3}x vs the fastest)"
                    : "MISSED";
                summary.Add(line + $"   ≤ {c.Target:F2}x: {verdict}");
            }
            Console.WriteLine();
            Console.WriteLine($"{"median ms per step",-19} {"MLLrSched",10} " + string.Join(" ", TorchVariants.Select(v => $"{v.Label,21}")) + "   target");
            foreach (var l in summary) Console.WriteLine(l);
            Console.WriteLine("  (ratio) = median over block cycles of MLLrSched's block time / that PyTorch loop's block time in the same cycle;");
            Console.WriteLine("  below 1 is faster. index = batches by indexing the training tensor with a randperm slice (the fastest hand-written");
            Console.WriteLine("  loop); DataLoader = torch.utils.data.DataLoader(TensorDataset, shuffle=True) (the idiomatic loop);");
            Console.WriteLine("  AdamW default = foreach=None, which 1.13 runs as the single-tensor loop on CPU.");
            Console.WriteLine();
        }
    }

    private static IEnumerable<string> TorchArgs(BenchOptions o, Case c, string loader, int useForeach) => new[]
    {
        Path.Combine(AppContext.BaseDirectory, "torch_train.py"),
        "train", "--model-code", c.PyTorchCode, "--image", c.Image ? "1" : "0", "--data", o.Data,
        "--batch", I(o.BatchSize), "--steps", I(c.Steps), "--warmup", I(c.Warmup), "--every", I(o.Every),
        "--lr", F(Lr), "--weight-decay", F(WeightDecay), "--max-norm", F(MaxNorm), "--ema-decay", F(EmaDecay),
        "--label-smoothing", F(LabelSmoothing), "--foreach", I(useForeach), "--loader", loader, "--paired", "1",
        "--threads", I(o.Threads),
    };

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
        var steps = options.MaxSteps!.Value;
        long go = 0;
        void WaitForGo()
        {
            var line = Console.ReadLine();
            if (line?.Trim() != "go") throw new InvalidOperationException($"expected 'go' on stdin, got '{line}'");
            go = Stopwatch.GetTimestamp();
        }
        var stamps = new List<(long Step, long Ticks)>();
        var progress = new Stamp(p =>
        {
            if (p.Kind != ProgressKind.Step || p.Step % o.Every != 0) return;
            var now = Stopwatch.GetTimestamp();
            stamps.Add((p.Step, now));
            if (!o.Paired) return;
            Console.WriteLine($"block {F((now - go) / (double)Stopwatch.Frequency)}");
            if (p.Step < steps) WaitForGo();
        });
        if (o.Paired)
        {
            Console.WriteLine("ready");
            WaitForGo();
        }
        var result = trainer.Fit(data, null, progress);
        var blocks = new List<double>();
        for (var i = 1; i < stamps.Count; i++)
            if (stamps[i - 1].Step >= (image ? o.CnnWarmup : o.Warmup) && stamps[i].Step - stamps[i - 1].Step == o.Every)
                blocks.Add((stamps[i].Ticks - stamps[i - 1].Ticks) / (double)Stopwatch.Frequency / o.Every);
        var median = o.Paired || blocks.Count == 0 ? double.NaN : Stats.Median(blocks);
        Console.WriteLine($$"""{"step_median": {{(double.IsNaN(median) ? "null" : F(median))}}, "steps": {{result.Steps}}, "total_seconds": {{F(result.Elapsed.TotalSeconds)}}}""");
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
