// Binding overhead benchmark: a small op (adding two 16-element tensors) and a Linear forward+backward on a
// 128×784 batch, through MLLrSched.Torch and through Python PyTorch on the same libtorch, same thread count,
// from one run. libtorch's own cost of the small op is measured in C++ (no binding at all), so the per-call
// overhead of each front end is its time minus that baseline.
//
//   dotnet run -c Release --project bench/MLLrSched.Bench.Binding [-- --threads N]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MLLrSched.Torch;
using MLLrSched.Torch.Modules;

var threads = args.Length >= 2 && args[0] == "--threads" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1;
Torch.NumThreads = threads;
const int Rounds = 15;

static double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }

double Time(int iterations, Action body)
{
    for (var i = 0; i < Math.Max(1, iterations / 10); i++) body();  // warm-up (JIT, allocator)
    var samples = new List<double>();
    for (var r = 0; r < Rounds; r++)
    {
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++) body();
        samples.Add(sw.Elapsed.TotalMilliseconds * 1e6 / iterations);
    }
    return Median(samples);
}

// --- small op
using var a = Tensor.Rand([16]);
using var b = Tensor.Rand([16]);
const int SmallIters = 200_000;
var csSmall = Time(SmallIters, () => { using var c = a.Add(b); });
var nativeSamples = new List<double>();
for (var r = 0; r < Rounds; r++) nativeSamples.Add(Diagnostics.NativeAddLoopNanoseconds(a, b, SmallIters) / (double)SmallIters);
var cppSmall = Median(nativeSamples);

// --- Linear(784 → 256) forward + backward on a 128×784 batch
Torch.ManualSeed(0);
using var layer = new Linear(784, 256);
using var x = Tensor.Randn([128, 784]);
const int LinIters = 300;
var csLinear = Time(LinIters, () =>
{
    using var scope = TensorScope.Open();
    layer.ZeroGrad();
    layer.Forward(x).Sum().Backward();
});

// --- the same in Python, same libtorch, same threads
var script = Path.Combine(AppContext.BaseDirectory, "binding_overhead.py");
var psi = new ProcessStartInfo("/usr/bin/python3", $"\"{script}\" {threads} {SmallIters} {LinIters} {Rounds}")
{ RedirectStandardOutput = true, RedirectStandardError = true };
using var p = Process.Start(psi)!;
var output = p.StandardOutput.ReadToEnd();
p.WaitForExit();
if (p.ExitCode != 0) throw new Exception("python benchmark failed: " + p.StandardError.ReadToEnd());
var py = JsonDocument.Parse(output).RootElement;
var pySmall = py.GetProperty("small_ns").GetDouble();
var pyLinear = py.GetProperty("linear_ns").GetDouble();

Console.WriteLine($"libtorch {Torch.Version} (C#) / torch {py.GetProperty("torch").GetString()} (Python), threads = {threads}, medians of {Rounds} rounds");
Console.WriteLine();
Console.WriteLine("| measurement | C++ (libtorch only) | MLLrSched.Torch | Python PyTorch | ratio C#/Python |");
Console.WriteLine("|---|---:|---:|---:|---:|");
Console.WriteLine($"| a + b, 16 floats: time per call | {cppSmall:F0} ns | {csSmall:F0} ns | {pySmall:F0} ns | {csSmall / pySmall:F2} |");
Console.WriteLine($"| a + b: per-call overhead above C++ | – | {csSmall - cppSmall:F0} ns | {pySmall - cppSmall:F0} ns | {(csSmall - cppSmall) / (pySmall - cppSmall):F2} |");
Console.WriteLine($"| Linear 784→256 fwd+bwd, batch 128 | – | {csLinear / 1000:F1} µs | {pyLinear / 1000:F1} µs | {csLinear / pyLinear:F2} |");
Console.WriteLine();
var target = (csSmall - cppSmall) / (pySmall - cppSmall);
Console.WriteLine($"target: small-op overhead ≤ 0.5× Python's → {(target <= 0.5 ? "met" : "NOT met")} ({target:F2}×)");
