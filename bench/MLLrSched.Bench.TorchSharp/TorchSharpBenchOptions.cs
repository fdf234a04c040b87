using System.Globalization;

namespace MLLrSched.Bench.TorchSharp;

/// <summary>Command-line options of the TorchSharp benchmark (bench/run-torchsharp.sh passes them through).</summary>
internal sealed record TorchSharpBenchOptions
{
    /// <summary>Every contender: our Trainer on the TorchSharp engine, the hand-written TorchSharp loop without and with
    /// a dispose scope per step, PyTorch's index loop with AdamW's default (single-tensor) and fused paths.</summary>
    public static readonly string[] AllContenders = { "trainer", "loop", "loop-scoped", "pytorch", "pytorch-fused" };

    /// <summary>Sections: step (paired step time, RSS per block), memory (a longer paired run for the RSS trajectory).</summary>
    public HashSet<string> Sections { get; init; } = new() { "step", "memory" };
    public HashSet<string> Models { get; init; } = new() { "mlp" };
    public string[] Contenders { get; init; } = AllContenders;
    /// <summary>Environments: default (nothing set), tuned (MALLOC_*/OMP_WAIT_POLICY in every process).</summary>
    public string[] Env { get; init; } = { "default", "tuned" };
    public int Threads { get; init; } = 2;
    public int Rounds { get; init; } = 2;
    public int BatchSize { get; init; } = 128;
    public int MlpSteps { get; init; } = 600;
    public int CnnSteps { get; init; } = 160;
    public int Warmup { get; init; } = 200;
    public int CnnWarmup { get; init; } = 40;
    public int Every { get; init; } = 10;
    public int GapMs { get; init; } = 250;
    /// <summary>Optimizer steps of the memory section's run (MLP).</summary>
    public int MemorySteps { get; init; } = 4000;
    /// <summary>Steps per block in the memory section.</summary>
    public int MemoryEvery { get; init; } = 100;
    public string Python { get; init; } = "/usr/bin/python3";
    public string Data { get; init; } = MLLrSched.Data.FashionMnist.DefaultDirectory;

    /// <summary>Internal: run as a child (trainer, loop, loop-scoped) training Model.</summary>
    public string? Child { get; init; }
    public string Model { get; init; } = "mlp";
    public int Steps { get; init; } = 600;
    public bool Paired { get; init; }

    public const string Usage =
        "Options: --only step,memory; --models mlp,cnn (mlp); --contenders trainer,loop,loop-scoped,pytorch,pytorch-fused (all); " +
        "--env default|tuned|both (both); --threads N (2); --rounds R (2); --batch-size B (128); --mlp-steps N (600); --cnn-steps N (160); " +
        "--warmup N (200); --cnn-warmup N (40); --every N (10); --gap-ms MS (250); --memory-steps N (4000); --memory-every N (100); " +
        "--python PATH (/usr/bin/python3); --data DIR.";

    public static TorchSharpBenchOptions Parse(string[] args)
    {
        var o = new TorchSharpBenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--only" => o with { Sections = Next().Split(',').ToHashSet() },
                "--models" => o with { Models = Next().Split(',').ToHashSet() },
                "--contenders" => o with { Contenders = Next().Split(',') },
                "--env" => o with { Env = Next() switch { "both" => new[] { "default", "tuned" }, var m => new[] { m } } },
                "--threads" => o with { Threads = NextInt() },
                "--rounds" => o with { Rounds = NextInt() },
                "--batch-size" => o with { BatchSize = NextInt() },
                "--mlp-steps" => o with { MlpSteps = NextInt() },
                "--cnn-steps" => o with { CnnSteps = NextInt() },
                "--warmup" => o with { Warmup = NextInt() },
                "--cnn-warmup" => o with { CnnWarmup = NextInt() },
                "--every" => o with { Every = NextInt() },
                "--gap-ms" => o with { GapMs = NextInt() },
                "--memory-steps" => o with { MemorySteps = NextInt() },
                "--memory-every" => o with { MemoryEvery = NextInt() },
                "--python" => o with { Python = Next() },
                "--data" => o with { Data = Next() },
                "--child" => o with { Child = Next() },
                "--model" => o with { Model = Next() },
                "--steps" => o with { Steps = NextInt() },
                "--paired" => o with { Paired = true },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'. {Usage}"),
            };
        }
        Check(o.Sections, new[] { "step", "memory" }, "--only");
        Check(o.Models, new[] { "mlp", "cnn" }, "--models");
        Check(o.Contenders, AllContenders, "--contenders");
        Check(o.Env, new[] { "default", "tuned" }, "--env");
        if (!o.Contenders.Contains("trainer")) throw new ArgumentException("--contenders must include trainer (every ratio is ours over a peer's).");
        if (o.Child is null && (o.Warmup + 3 * o.Every > o.MlpSteps || o.CnnWarmup + 3 * o.Every > o.CnnSteps))
            throw new ArgumentException("--mlp-steps and --cnn-steps must leave at least 3 timed blocks after --warmup / --cnn-warmup.");
        if (o.MemorySteps < 3 * o.MemoryEvery) throw new ArgumentException("--memory-steps must be at least 3 × --memory-every.");
        return o;
    }

    private static void Check(IEnumerable<string> given, string[] valid, string option)
    {
        var unknown = given.Except(valid).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"{option}: unknown value(s) {string.Join(", ", unknown)}. Valid: {string.Join(", ", valid)}.");
    }
}
