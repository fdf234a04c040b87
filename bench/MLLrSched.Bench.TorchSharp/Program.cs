// TorchSharp benchmark (TorchSharp as a first-class engine, item 6): our Trainer on the TorchSharp engine against a
// hand-written TorchSharp loop (target ≤ 1.0× step time, flat memory) and PyTorch 2.x (target ≤ 0.8×), same model,
// policy, data, batch and threads, paired block by block. Run in the Debian 13 root: bash bench/run-torchsharp.sh.
using MLLrSched.Bench.TorchSharp;
using MLLrSched.TorchSharpBackend;

var o = TorchSharpBenchOptions.Parse(args);
if (o.Child is { } child)
{
    var c = new StepChildOptions(o.Model, o.Data, o.BatchSize, o.Steps, o.Warmup, o.Every, o.Threads, o.Paired);
    return child switch
    {
        "trainer" => TrainerStepChild.Run(new TorchSharpEngine().Backend, c),
        "loop" => HandWrittenLoop.Run(c, scoped: false),
        "loop-scoped" => HandWrittenLoop.Run(c, scoped: true),
        _ => throw new ArgumentException($"Unknown child '{child}'. Valid: trainer, loop, loop-scoped."),
    };
}

var engine = new TorchSharpEngine();
Console.WriteLine($"MLLrSched TorchSharp benchmark — {engine.Description}; PyTorch {ChildProcess.PythonTorchVersion(o.Python)} ({o.Python}); " +
                  $"{Environment.ProcessorCount} CPUs ({CpuModel()}), threads {o.Threads} on every side, .NET {Environment.Version}");
if (ChildProcess.InheritedClearedVariables() is { Count: > 0 } cleared)
    Console.WriteLine($"removed from every child's environment (each library runs as it comes): {string.Join(" ", cleared)}");
Console.WriteLine($"load average at start: {LoadAverage.Now()}");
Console.WriteLine();
if (o.Sections.Contains("step")) TorchSharpStepBench.Step(o);
if (o.Sections.Contains("memory")) TorchSharpStepBench.Memory(o);
Console.WriteLine($"load average at the end: {LoadAverage.Now()}");
return 0;

static string CpuModel()
{
    try
    {
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?.Split(':', 2)[1].Trim() ?? "unknown CPU";
    }
    catch (IOException) { return "unknown CPU"; }
}
