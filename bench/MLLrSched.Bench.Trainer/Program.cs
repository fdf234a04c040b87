// Trainer benchmark (issue 4): step time of the built-in MLP and CNN through the real Trainer against the same loop in
// PyTorch 1.13 on the same libtorch, threads, batch size and data (targets: MLP ≤ 0.8×, CNN ≤ 0.95× PyTorch's step
// time); the fused EMA update of 10 M parameters against the bandwidth bound; peak RSS under gradient accumulation
// (4 × 128 ≤ 1.15× of 1 × 128). Run: bash bench/run-trainer.sh [--only step,ema,memory] [--rounds R] ...
using MLLrSched.Bench.Trainer;
using MLLrSched.Torch;

if (args.Length > 0 && args[0] == "--memory-child") return MemoryBench.ChildMain(args);

var o = BenchOptions.Parse(args);
if (o.StepChild is { } model) return StepTimeBench.ChildMain(model, o);
Torch.NumThreads = o.Threads;
Console.WriteLine($"MLLrSched trainer benchmark — libtorch {Torch.Version}, {Environment.ProcessorCount} CPUs " +
                  $"({CpuModel()}), threads {Torch.NumThreads} on both sides, .NET {Environment.Version}");
if (ChildProcess.InheritedClearedVariables() is { Count: > 0 } cleared)
    Console.WriteLine($"removed from every child's environment (each library runs as it comes): {string.Join(" ", cleared)}");
Console.WriteLine($"load average at start: {LoadAverage.Now()}");
Console.WriteLine();
if (o.Sections.Contains("step")) StepTimeBench.Run(o);
if (o.Sections.Contains("ema")) EmaBench.Run(o);
if (o.Sections.Contains("memory")) MemoryBench.Run(o);
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
