using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Torch;

// AdamW step on N float32 parameters in T tensors:
//   * MLLrSched fused kernel (one pass, 28 bytes/parameter) and tensor-op path,
//   * PyTorch 1.13 AdamW(foreach=True) and (foreach=False), run by /usr/bin/python3 in the same benchmark run,
//   * the memory-bandwidth bound, from the STREAM triad (12 bytes/element) on this machine.
// All with the same thread count. Prints medians and ratios.

var opts = Options.Parse(args);
Torch.NumThreads = opts.Threads;
Console.WriteLine($"MLLrSched optimizer benchmark — libtorch {Torch.Version}, {Environment.ProcessorCount} CPUs, threads {Torch.NumThreads}");
Console.WriteLine($"{opts.Params:N0} float32 parameters in {opts.Tensors} tensors; median of {opts.Iters} timed iterations, best of {opts.Rounds} rounds");
Console.WriteLine();

var n = opts.Params;
var perTensor = n / opts.Tensors;

// The machine may be shared: each round measures everything once, and the best round's median of each is reported
// (contention only ever slows a measurement down).
double triad = double.MaxValue, fusedTime = double.MaxValue, tensorOpTime = double.MaxValue;
double? torchForeach = null, torchSingle = null;
var torchVersion = "?";
for (var round = 1; round <= opts.Rounds; round++)
{
    var t = Triad();
    var fu = Ours(true);
    var o = Ours(false);
    var (pf, psingle) = PyTorch();
    Console.WriteLine($"round {round}: triad {t * 1e3:F2} ms, fused {fu * 1e3:F2} ms, tensor ops {o * 1e3:F2} ms, " +
                      $"PyTorch foreach {pf * 1e3:F2} ms, single-tensor {psingle * 1e3:F2} ms");
    triad = Math.Min(triad, t);
    fusedTime = Math.Min(fusedTime, fu);
    tensorOpTime = Math.Min(tensorOpTime, o);
    if (!double.IsNaN(pf)) torchForeach = Math.Min(torchForeach ?? double.MaxValue, pf);
    if (!double.IsNaN(psingle)) torchSingle = Math.Min(torchSingle ?? double.MaxValue, psingle);
}
Console.WriteLine();
var bandwidth = 12.0 * n / triad;                 // bytes/s
var bound = 28.0 * n / bandwidth;                 // a fused AdamW moves 28 bytes per parameter

// a = b + s·c over N floats, 12 bytes per element.
double Triad()
{
    using var a = Tensor.Zeros(new[] { n });
    using var b = Tensor.Randn(new[] { n });
    using var c = Tensor.Randn(new[] { n });
    return Median(opts.Iters, () => FusedKernels.StreamTriad(a, b, c, 0.5));
}

// MLLrSched AdamW, fused and tensor ops.
double Ours(bool fused)
{
    Torch.ManualSeed(0);
    var ps = Enumerable.Range(0, opts.Tensors).Select(_ => Tensor.Randn(new[] { perTensor }).RequiresGrad_()).ToArray();
    foreach (var p in ps)
    {
        using var g = Tensor.Randn(new[] { perTensor });
        p.Grad = g;
    }
    using var opt = new AdamW(ps.Cast<ITensor>(), lr: 1e-3, weightDecay: 0.01) { UseFusedKernels = fused };
    for (var i = 0; i < 3; i++) opt.Step();
    var time = Median(opts.Iters, opt.Step);
    foreach (var p in ps) p.Dispose();
    return time;
}

// PyTorch, same layout and threads, in a child process.
(double Foreach, double Single) PyTorch()
{
    var script = Path.Combine(AppContext.BaseDirectory, "torch_adamw.py");
    var psi = new ProcessStartInfo(opts.Python,
        $"\"{script}\" --params {n} --tensors {opts.Tensors} --iters {opts.Iters} --threads {opts.Threads}")
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };
    try
    {
        using var proc = Process.Start(psi)!;
        var output = proc.StandardOutput.ReadToEnd();
        var err = proc.StandardError.ReadToEnd();
        proc.WaitForExit();
        if (proc.ExitCode != 0)
        {
            Console.WriteLine($"PyTorch run failed ({proc.ExitCode}): {err}");
            return (double.NaN, double.NaN);
        }
        using var doc = JsonDocument.Parse(output.Trim().Split('\n').Last());
        torchVersion = doc.RootElement.GetProperty("torch_version").GetString()!;
        var torchThreads = doc.RootElement.GetProperty("threads").GetInt32();
        if (torchThreads != Torch.NumThreads) Console.WriteLine($"warning: PyTorch ran with {torchThreads} threads");
        return (doc.RootElement.GetProperty("foreach").GetDouble(), doc.RootElement.GetProperty("single_tensor").GetDouble());
    }
    catch (Exception e)
    {
        Console.WriteLine($"PyTorch run failed: {e.Message}");
        return (double.NaN, double.NaN);
    }
}

string Ms(double s) => (s * 1e3).ToString("F2", CultureInfo.InvariantCulture).PadLeft(9);
string Gbs(double s) => (28.0 * n / s / 1e9).ToString("F1", CultureInfo.InvariantCulture).PadLeft(7);
Console.WriteLine($"memory bandwidth (STREAM triad, 12 B/elem): {bandwidth / 1e9:F1} GB/s  (triad {triad * 1e3:F2} ms)");
Console.WriteLine($"bandwidth bound for one AdamW step (28 B/param): {bound * 1e3:F2} ms");
Console.WriteLine();
Console.WriteLine("AdamW step                           median ms   GB/s*   vs bound");
void Row(string label, double t) => Console.WriteLine($"{label,-35} {Ms(t)} {Gbs(t)}   {bound / t,6:P0}");
Row("MLLrSched fused kernel", fusedTime);
Row("MLLrSched tensor ops (no fusion)", tensorOpTime);
if (torchForeach is { } tf) Row($"PyTorch {torchVersion} foreach=True", tf);
if (torchSingle is { } ts) Row($"PyTorch {torchVersion} foreach=False", ts);
Console.WriteLine("  * effective: 28 bytes per parameter divided by the step time");
Console.WriteLine();
if (torchForeach is { } f)
    Console.WriteLine($"fused vs PyTorch foreach: {f / fusedTime:F2}x faster   (target ≥ 2x: {(f / fusedTime >= 2 ? "met" : "MISSED")})");
Console.WriteLine($"fused vs bandwidth bound: {bound / fusedTime:P0} of the bound   (target ≥ 80%: {(bound / fusedTime >= 0.8 ? "met" : "MISSED")})");
// The triad's 12 bytes leave out the read-for-ownership of the written array (16 bytes really move); every array the
// AdamW kernel writes it also reads, so its 28 bytes are all the traffic. Against the triad's real traffic:
Console.WriteLine($"  (counting the triad's write-allocate, 16 B/elem: {bound * 16 / 12 / fusedTime:P0} of that bandwidth)");

static double Median(int iters, Action action)
{
    action();
    var times = new double[iters];
    var sw = new Stopwatch();
    for (var i = 0; i < iters; i++)
    {
        sw.Restart();
        action();
        times[i] = sw.Elapsed.TotalSeconds;
    }
    Array.Sort(times);
    return iters % 2 == 1 ? times[iters / 2] : (times[iters / 2 - 1] + times[iters / 2]) / 2;
}

internal sealed record Options(long Params, int Tensors, int Iters, int Threads, int Rounds, string Python)
{
    public static Options Parse(string[] args)
    {
        long parameters = 10_000_000;
        int tensors = 10, iters = 30, threads = Environment.ProcessorCount, rounds = 3;
        var python = "/usr/bin/python3";
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--params": parameters = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--tensors": tensors = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--iters": iters = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--python": python = Next(); break;
                default:
                    throw new ArgumentException(
                        $"Unknown option '{args[i]}'. Valid: --params N (10000000), --tensors T (10), --iters K (30), " +
                        "--threads N (all CPUs), --rounds R (3), --python PATH (/usr/bin/python3).");
            }
        }
        if (parameters % tensors != 0) throw new ArgumentException("--params must be a multiple of --tensors");
        return new Options(parameters, tensors, iters, threads, rounds, python);
    }
}
