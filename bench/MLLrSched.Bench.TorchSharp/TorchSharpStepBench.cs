using System.Globalization;

namespace MLLrSched.Bench.TorchSharp;

/// <summary>
/// Step time and resident memory of our Trainer on the TorchSharp engine against its peers (<see cref="Peers"/>), all
/// training the same model with the same policy (<see cref="BenchPolicy"/>), data, batch and threads, as processes that
/// take turns block by block (<see cref="PairedRun"/>). A ratio is the median over block cycles of our block time over
/// the peer's in the same cycle, so a slow spell of a shared machine hits both sides of a ratio alike.
/// </summary>
internal static class TorchSharpStepBench
{
    private sealed record Contender(string Key, string Label, double? Target);

    private static readonly Contender[] Peers =
    {
        new("trainer", "MLLrSched Trainer (TorchSharp)", null),
        new("loop", "TorchSharp loop", 1.0),
        new("loop-scoped", "TorchSharp loop, scoped", 1.0),
        new("pytorch", "PyTorch, AdamW default", 0.8),
        new("pytorch-fused", "PyTorch, AdamW fused", 0.8),
    };

    public static void Step(TorchSharpBenchOptions o)
    {
        foreach (var mode in o.Env)
        {
            Console.WriteLine($"== Training step time, {mode} environment ({ChildProcess.Describe(mode)})");
            Console.WriteLine($"   {BenchPolicy.Describe(o.BatchSize, o.Threads)}");
            Console.WriteLine($"   {o.Contenders.Length} processes taking turns in blocks of {o.Every} steps (rotating order, {o.GapMs} ms pause between turns); " +
                              $"the first {o.Warmup} MLP / {o.CnnWarmup} CNN steps are left out; {o.Rounds} round(s)");
            var summary = new List<string>();
            foreach (var key in o.Models)
            {
                var steps = key == "cnn" ? o.CnnSteps : o.MlpSteps;
                var warmup = key == "cnn" ? o.CnnWarmup : o.Warmup;
                var contenders = Selected(o);
                var times = contenders.Select(_ => new List<double>()).ToArray();
                var ratios = contenders.Select(_ => new List<double>()).ToArray();
                var rss = contenders.Select(_ => new List<(double First, double Last, double Max)>()).ToArray();
                for (var round = 1; round <= o.Rounds; round++)
                {
                    var (blocks, rssBlocks, load) = RunOnce(o, mode, key, steps, warmup, o.Every, contenders);
                    var skip = (warmup + o.Every - 1) / o.Every;
                    if (Environment.GetEnvironmentVariable("MLLRSCHED_BENCH_DUMP") == "1")
                        for (var i = 0; i < contenders.Length; i++)
                            Console.WriteLine($"  {contenders[i].Label}: " + string.Join(" ", blocks[i].Select(t => Stats.Ms(t / o.Every))));
                    for (var i = 0; i < contenders.Length; i++)
                    {
                        times[i].AddRange(blocks[i].Skip(skip).Select(t => t / o.Every));
                        ratios[i].AddRange(blocks[0].Zip(blocks[i], (a, b) => a / b).Skip(skip));
                        var timed = rssBlocks[i].Skip(skip - 1).ToArray();
                        rss[i].Add((timed[0], timed[^1], timed.Max()));
                    }
                    Console.WriteLine($"round {round} {BenchPolicy.Name(key)}: " + string.Join(" | ", contenders.Select((c, i) =>
                        $"{c.Label} {Stats.Ms(Stats.Median(blocks[i].Skip(skip).Select(t => t / o.Every).ToList()))} ms")) + $" (load average {load})");
                }
                summary.Add($"{BenchPolicy.Name(key)}:");
                summary.Add($"  {"contender",-32} {"ms/step",8} {"ours/theirs",12} {"target",7}   {"RSS MiB: first timed",21} {"last",7} {"max",7}");
                for (var i = 0; i < contenders.Length; i++)
                {
                    var c = contenders[i];
                    var r = Stats.Median(ratios[i]);
                    var verdict = i == 0 ? "" : c.Target is { } t ? (r <= t ? $"≤ {t:F2} met" : $"≤ {t:F2} MISSED") : "";
                    summary.Add($"  {c.Label,-32} {Stats.Ms(Stats.Median(times[i])),8} {(i == 0 ? "" : $"{r:F3}x"),12} {verdict,-13} " +
                                $"{Stats.Median(rss[i].Select(x => x.First).ToList()) / 1024,14:F1} {Stats.Median(rss[i].Select(x => x.Last).ToList()) / 1024,7:F1} " +
                                $"{Stats.Median(rss[i].Select(x => x.Max).ToList()) / 1024,7:F1}");
                }
            }
            Console.WriteLine();
            foreach (var l in summary) Console.WriteLine(l);
            Console.WriteLine("  ours/theirs = median over block cycles of the Trainer's block time / that contender's block time in the same cycle (below 1: faster).");
            Console.WriteLine("  RSS = resident memory at the end of the first timed block, the last block, and the most seen at a block's end (median of rounds).");
            Console.WriteLine();
        }
    }

    /// <summary>A longer paired run (MLP) for the resident-memory trajectory of every contender.</summary>
    public static void Memory(TorchSharpBenchOptions o)
    {
        var mode = o.Env[0];
        var contenders = Selected(o);
        Console.WriteLine($"== Resident memory over {o.MemorySteps} MLP steps, {mode} environment ({ChildProcess.Describe(mode)}); RSS at the end of every {o.MemoryEvery}-step block");
        var (blocks, rss, load) = RunOnce(o, mode, "mlp", o.MemorySteps, 0, o.MemoryEvery, contenders);
        var n = blocks[0].Length;
        var points = new[] { 0, n / 8, n / 4, n / 2, 3 * n / 4, n - 1 }.Distinct().ToArray();
        Console.WriteLine($"   load average {load}");
        Console.WriteLine($"  {"RSS MiB after step",-32} " + string.Join(" ", points.Select(p => $"{(p + 1) * o.MemoryEvery,7}")) + $" {"growth",8} {"ms/step",8}");
        for (var i = 0; i < contenders.Length; i++)
        {
            var growth = (rss[i][^1] - rss[i][Math.Min(n - 1, n / 8)]) / 1024;
            Console.WriteLine($"  {contenders[i].Label,-32} " + string.Join(" ", points.Select(p => $"{rss[i][p] / 1024,7:F0}")) +
                              $" {growth,8:+0;-0;0} {Stats.Ms(Stats.Median(blocks[i].Skip(1).Select(t => t / o.MemoryEvery).ToList())),8}");
        }
        Console.WriteLine($"  growth = RSS at the end − RSS after step {(Math.Min(n - 1, n / 8) + 1) * o.MemoryEvery} (MiB)");
        if (Environment.GetEnvironmentVariable("MLLRSCHED_BENCH_DUMP") == "1")
            for (var i = 0; i < contenders.Length; i++)
                Console.WriteLine($"  {contenders[i].Label} RSS: " + string.Join(" ", rss[i].Select(v => (v / 1024).ToString("F0", CultureInfo.InvariantCulture))));
        Console.WriteLine();
    }

    private static Contender[] Selected(TorchSharpBenchOptions o) => Peers.Where(p => o.Contenders.Contains(p.Key)).ToArray();

    private static (double[][] Blocks, double[][] Rss, string Load) RunOnce(TorchSharpBenchOptions o, string mode, string key, int steps, int warmup, int every, Contender[] contenders)
    {
        using var run = new PairedRun();
        var env = ChildProcess.Environment(mode);
        foreach (var c in contenders)
        {
            if (c.Key.StartsWith("pytorch", StringComparison.Ordinal))
                run.Add(c.Label, o.Python, BenchPolicy.TorchTrainArgs(key, o.Data, o.BatchSize, steps, warmup, every, o.Threads, "index", 0, c.Key == "pytorch-fused" ? 1 : 0), env);
            else
                run.Add(c.Label, ChildProcess.SelfPath, ChildProcess.SelfArgs().Concat(new[]
                {
                    "--child", c.Key, "--model", key, "--steps", I(steps), "--warmup", I(warmup), "--every", I(every), "--threads", I(o.Threads),
                    "--batch-size", I(o.BatchSize), "--data", o.Data, "--paired",
                }), env);
        }
        var before = LoadAverage.Now();
        var blocks = run.Run(steps / every, TimeSpan.FromMilliseconds(o.GapMs));
        return (blocks, run.Rss, $"{before} → {LoadAverage.Now()}");
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
