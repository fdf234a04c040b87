using System.Globalization;
using MLLrSched.Torch;

namespace MLLrSched.Bench.Trainer;

/// <summary>
/// Steady-state optimizer-step time of the built-in MLP and CNN trained by the real <see cref="Training.Trainer"/> on
/// the native engine, against the same model, data, batch size, threads and policy (<see cref="BenchPolicy"/>) in
/// PyTorch on the same libtorch (1.13 on Debian 12; 2.6 in the Debian 13 root with the 2.6 shim). The contenders run as
/// processes taking turns block by block (<see cref="PairedRun"/>); a ratio is the median over block cycles.
/// </summary>
internal static class StepTimeBench
{
    private sealed record Case(string Key, int Steps, int Warmup, double Target);

    /// <summary>A PyTorch loop timed: label, --loader, --foreach, --fused (AdamW(fused=True), torch ≥ 2.4 only).</summary>
    private sealed record TorchVariant(string Label, string Loader, int Foreach, int Fused = 0);

    private static TorchVariant[] Variants(string torchVersion)
    {
        var list = new List<TorchVariant>
        {
            new("index, AdamW default", "index", 0),
            new("index, AdamW foreach", "index", 1),
        };
        if (AtLeast(torchVersion, 2, 4)) list.Add(new("index, AdamW fused", "index", 0, 1));
        list.Add(new("DataLoader, default", "dataloader", 0));
        return list.ToArray();
    }

    private static bool AtLeast(string version, int major, int minor)
    {
        var parts = version.Split('.', '+');
        return parts.Length >= 2 && int.TryParse(parts[0], out var ma) && int.TryParse(parts[1], out var mi) && (ma > major || (ma == major && mi >= minor));
    }

    public static void Run(BenchOptions o)
    {
        var torchVersion = ChildProcess.PythonTorchVersion(o.Python);
        var variants = Variants(torchVersion);
        var cases = new[]
        {
            new Case("mlp", o.MlpSteps, o.Warmup, 0.80),
            new Case("cnn", o.CnnSteps, o.CnnWarmup, 0.95),
        }.Where(c => o.Models.Contains(c.Key)).ToArray();
        foreach (var mode in o.Env)
        {
            Console.WriteLine($"== Training step time, {mode} environment ({ChildProcess.Describe(mode)})");
            Console.WriteLine($"   native engine on libtorch {Torch.Torch.Version} vs PyTorch {torchVersion} ({o.Python}); {BenchPolicy.Describe(o.BatchSize, o.Threads)}");
            Console.WriteLine($"   MLLrSched and {variants.Length} PyTorch loops run as {1 + variants.Length} processes taking turns in blocks of {o.Every} steps " +
                              $"(rotating order, {o.GapMs} ms pause between turns);");
            Console.WriteLine($"   the first {o.Warmup} MLP / {o.CnnWarmup} CNN steps (about a second: JIT tiering, caches) are left out; {o.Rounds} round(s); " +
                              $"load average at start {LoadAverage.Now()}");
            var names = new[] { "MLLrSched" }.Concat(variants.Select(v => "PyTorch " + v.Label)).ToArray();
            var summary = new List<string>();
            foreach (var c in cases)
            {
                // per contender: seconds per step of each block; per PyTorch loop: paired ratios ours / theirs
                var times = names.Select(_ => new List<double>()).ToArray();
                var ratios = variants.Select(_ => new List<double>()).ToArray();
                for (var round = 1; round <= o.Rounds; round++)
                {
                    using var run = new PairedRun();
                    var env = ChildProcess.Environment(mode);
                    run.Add(names[0], ChildProcess.SelfPath, ChildProcess.SelfArgs().Concat(new[]
                    {
                        "--step-child", c.Key, "--paired", "--batch-size", I(o.BatchSize), "--mlp-steps", I(o.MlpSteps),
                        "--cnn-steps", I(o.CnnSteps), "--warmup", I(o.Warmup), "--cnn-warmup", I(o.CnnWarmup), "--every", I(o.Every), "--threads", I(o.Threads), "--data", o.Data,
                    }), env);
                    foreach (var v in variants)
                        run.Add("PyTorch " + v.Label, o.Python, BenchPolicy.TorchTrainArgs(c.Key, o.Data, o.BatchSize, c.Steps, c.Warmup, o.Every, o.Threads, v.Loader, v.Foreach, v.Fused), env);
                    var load = LoadAverage.Now();
                    var blocks = run.Run(c.Steps / o.Every, TimeSpan.FromMilliseconds(o.GapMs));
                    var skip = (c.Warmup + o.Every - 1) / o.Every;
                    if (Environment.GetEnvironmentVariable("MLLRSCHED_BENCH_DUMP") == "1")
                        for (var i = 0; i < names.Length; i++) Console.WriteLine($"  {names[i]}: " + string.Join(" ", blocks[i].Select(t => Stats.Ms(t / o.Every))));
                    for (var i = 0; i < names.Length; i++) times[i].AddRange(blocks[i].Skip(skip).Select(t => t / o.Every));
                    for (var v = 0; v < variants.Length; v++)
                        ratios[v].AddRange(blocks[0].Zip(blocks[v + 1], (a, b) => a / b).Skip(skip));
                    Console.WriteLine($"round {round} {BenchPolicy.Name(c.Key),-19} " + string.Join(" | ", names.Select((n, i) =>
                        $"{n} {Stats.Ms(Stats.Median(blocks[i].Skip(skip).Select(t => t / o.Every).ToList()))} ms")) +
                        $" (load average {load} → {LoadAverage.Now()})");
                }
                var line = $"{BenchPolicy.Name(c.Key),-19} {Stats.Ms(Stats.Median(times[0])),10} ";
                var medianRatios = ratios.Select(Stats.Median).ToArray();
                for (var v = 0; v < variants.Length; v++)
                    line += $" {Stats.Ms(Stats.Median(times[v + 1])),9} ({medianRatios[v],6:F3}x)";
                // Named loop by loop: a verdict about "the fastest" or "the DataLoader loop" alone hid which loops were beaten.
                var missed = variants.Select((v, i) => (v.Label, Ratio: medianRatios[i])).Where(x => x.Ratio > c.Target).ToArray();
                var verdict = missed.Length == 0 ? "met vs every PyTorch loop"
                    : missed.Length == variants.Length ? "MISSED vs every PyTorch loop"
                    : "met, except vs " + string.Join(", ", missed.Select(x => $"{x.Label} ({x.Ratio:F3}x)"));
                summary.Add(line + $"   ≤ {c.Target:F2}x: {verdict}");
            }
            Console.WriteLine();
            Console.WriteLine($"{"median ms per step",-19} {"MLLrSched",10} " + string.Join(" ", variants.Select(v => $"{v.Label,21}")) + "   target");
            foreach (var l in summary) Console.WriteLine(l);
            Console.WriteLine("  (ratio) = median over block cycles of MLLrSched's block time / that PyTorch loop's block time in the same cycle;");
            Console.WriteLine("  below 1 is faster. index = batches by indexing the training tensor with a randperm slice (the fastest hand-written");
            Console.WriteLine("  loop); DataLoader = torch.utils.data.DataLoader(TensorDataset, shuffle=True) (the idiomatic loop);");
            Console.WriteLine("  AdamW default = foreach=None, which PyTorch runs as the single-tensor loop on the CPU; fused = AdamW(fused=True) (torch ≥ 2.4).");
            Console.WriteLine();
        }
    }

    /// <summary>The child: trains <paramref name="key"/> through the real Trainer on the native engine.</summary>
    public static int ChildMain(string key, BenchOptions o) => TrainerStepChild.Run(NativeBackend.Instance, new StepChildOptions(
        key, o.Data, o.BatchSize, key == "cnn" ? o.CnnSteps : o.MlpSteps, key == "cnn" ? o.CnnWarmup : o.Warmup, o.Every, o.Threads, o.Paired));

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
