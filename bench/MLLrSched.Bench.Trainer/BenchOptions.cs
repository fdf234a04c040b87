using System.Globalization;

namespace MLLrSched.Bench.Trainer;

/// <summary>Command-line options of the trainer benchmark.</summary>
internal sealed record BenchOptions
{
    /// <summary>Sections to run: step, ema, memory (default all).</summary>
    public HashSet<string> Sections { get; init; } = new() { "step", "ema", "memory" };
    /// <summary>Models of the step-time section: mlp, cnn (default both).</summary>
    public HashSet<string> Models { get; init; } = new() { "mlp", "cnn" };
    public int Threads { get; init; } = 2;
    /// <summary>Environments to run the step-time section in: default, tuned (see ChildProcess.Environment).</summary>
    public string[] Env { get; init; } = { "default", "tuned" };
    public int Rounds { get; init; } = 2;
    public int BatchSize { get; init; } = 128;
    public int MlpSteps { get; init; } = 600;
    public int CnnSteps { get; init; } = 160;
    /// <summary>Steps left out at the start of the MLP run (JIT tiering, allocator and cache warm-up: about a second).</summary>
    public int Warmup { get; init; } = 200;
    /// <summary>Steps left out at the start of the CNN run.</summary>
    public int CnnWarmup { get; init; } = 40;
    /// <summary>Steps per timed block: the step time is the median block time / Every.</summary>
    public int Every { get; init; } = 10;
    public long EmaParams { get; init; } = 10_000_000;
    public int EmaTensors { get; init; } = 10;
    public int EmaIters { get; init; } = 30;
    public int MemorySteps { get; init; } = 12;
    /// <summary>Internal: run as the child that trains one model through the Trainer.</summary>
    public string? StepChild { get; init; }
    /// <summary>Internal: the step child takes turns with others (see PairedRun).</summary>
    public bool Paired { get; init; }
    /// <summary>Pause between two contenders' turns, in ms.</summary>
    public int GapMs { get; init; } = 250;
    public string Python { get; init; } = "/usr/bin/python3";
    public string Data { get; init; } = MLLrSched.Data.FashionMnist.DefaultDirectory;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--only" => o with { Sections = Next().Split(',').ToHashSet() },
                "--models" => o with { Models = Next().Split(',').ToHashSet() },
                "--env" => o with { Env = Next() switch { "both" => new[] { "default", "tuned" }, var m => new[] { m } } },
                "--paired" => o with { Paired = true },
                "--gap-ms" => o with { GapMs = NextInt() },
                "--step-child" => o with { StepChild = Next() },
                "--threads" => o with { Threads = NextInt() },
                "--rounds" => o with { Rounds = NextInt() },
                "--batch-size" => o with { BatchSize = NextInt() },
                "--mlp-steps" => o with { MlpSteps = NextInt() },
                "--cnn-steps" => o with { CnnSteps = NextInt() },
                "--warmup" => o with { Warmup = NextInt() },
                "--cnn-warmup" => o with { CnnWarmup = NextInt() },
                "--every" => o with { Every = NextInt() },
                "--ema-params" => o with { EmaParams = long.Parse(Next(), CultureInfo.InvariantCulture) },
                "--ema-iters" => o with { EmaIters = NextInt() },
                "--memory-steps" => o with { MemorySteps = NextInt() },
                "--python" => o with { Python = Next() },
                "--data" => o with { Data = Next() },
                _ => throw new ArgumentException(
                    $"Unknown option '{args[i]}'. Valid: --only step,ema,memory; --models mlp,cnn; --env default|tuned|both (both); --threads N (2); --rounds R (2); " +
                    "--batch-size B (128); --mlp-steps N (600); --cnn-steps N (160); --warmup N (200); --cnn-warmup N (40); --every N (10); --gap-ms MS (250); " +
                    "--ema-params N (10000000); --ema-iters K (30); --memory-steps N (12); --python PATH (/usr/bin/python3); --data DIR."),
            };
        }
        var unknown = o.Sections.Except(new[] { "step", "ema", "memory" }).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"--only: unknown section(s) {string.Join(", ", unknown)}. Valid: step, ema, memory.");
        if (o.Env.Except(new[] { "tuned", "default" }).Any()) throw new ArgumentException("--env must be default, tuned or both.");
        var unknownModels = o.Models.Except(new[] { "mlp", "cnn" }).ToArray();
        if (unknownModels.Length > 0) throw new ArgumentException($"--models: unknown model(s) {string.Join(", ", unknownModels)}. Valid: mlp, cnn.");
        if (o.Warmup + 3 * o.Every > o.MlpSteps || o.CnnWarmup + 3 * o.Every > o.CnnSteps)
            throw new ArgumentException("--mlp-steps and --cnn-steps must leave at least 3 timed blocks after --warmup / --cnn-warmup.");
        return o;
    }
}
