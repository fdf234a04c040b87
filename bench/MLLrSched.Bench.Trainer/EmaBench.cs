using MLLrSched.Backend;
using MLLrSched.Torch;
using MLLrSched.Torch.Modules;
using MLLrSched.Training;

namespace MLLrSched.Bench.Trainer;

/// <summary>
/// One EMA update of N float32 parameters (ν ← α·ν + (1−α)·θ): the fused kernel called directly, through
/// <see cref="ModelEma.Update"/> on a model of that size (parameter enumeration and checks included), and PyTorch's
/// foreach and per-tensor forms, against the bandwidth bound — the STREAM triad moves the same 12 bytes per element
/// (two reads, one write) as a fused EMA, so the bound is the triad's time.
/// </summary>
internal static class EmaBench
{
    public static void Run(BenchOptions o)
    {
        var n = o.EmaParams;
        var tensors = o.EmaTensors;
        if (n % tensors != 0) throw new ArgumentException("--ema-params must be a multiple of 10.");
        var per = n / tensors;
        Console.WriteLine($"== EMA update of {n:N0} float32 parameters ({tensors} tensors), threads {o.Threads}; median of {o.EmaIters}, best round of {o.Rounds}");

        // A model of exactly n parameters: `tensors` bias-free Linear layers of per = rows × cols weights.
        var cols = (long)Math.Sqrt(per);
        while (per % cols != 0) cols--;
        using var model = new Sequential(Enumerable.Range(0, tensors).Select(_ => (Module)new Linear(cols, per / cols, bias: false)).ToArray());
        using var ema = new ModelEma(model, new EmaOptions { Decay = 0.999 });

        double triad = double.MaxValue, fused = double.MaxValue, viaModel = double.MaxValue, tf = double.MaxValue, tp = double.MaxValue;
        for (var round = 1; round <= o.Rounds; round++)
        {
            var t = Triad(n, o.EmaIters);
            var f = Fused(tensors, per, o.EmaIters);
            long step = 10;
            var m = Stats.MedianTime(o.EmaIters, () => ema.Update(model, step++));
            var r = ChildProcess.PyTorch(o.Python, o.Threads, "default", new[] { "ema", "--params", n.ToString(), "--tensors", tensors.ToString(), "--iters", o.EmaIters.ToString(), "--ema-decay", "0.999" });
            var pf = r?.GetProperty("foreach").GetDouble() ?? double.NaN;
            var pp = r?.GetProperty("per_tensor").GetDouble() ?? double.NaN;
            Console.WriteLine($"round {round}: triad {Stats.Ms(t)} ms, fused {Stats.Ms(f)} ms, ModelEma.Update {Stats.Ms(m)} ms, PyTorch foreach {Stats.Ms(pf)} ms, per-tensor {Stats.Ms(pp)} ms");
            triad = Math.Min(triad, t);
            fused = Math.Min(fused, f);
            viaModel = Math.Min(viaModel, m);
            if (!double.IsNaN(pf)) tf = Math.Min(tf, pf);
            if (!double.IsNaN(pp)) tp = Math.Min(tp, pp);
        }
        var bandwidth = 12.0 * n / triad;
        Console.WriteLine();
        Console.WriteLine($"memory bandwidth (STREAM triad, 12 B/elem): {bandwidth / 1e9:F1} GB/s; bound for one EMA update (12 B/param): {Stats.Ms(triad)} ms");
        Console.WriteLine($"{"EMA update",-36} {"median ms",10} {"GB/s",7} {"of bound",9}");
        void Row(string label, double s)
        {
            if (s == double.MaxValue) return;
            Console.WriteLine($"{label,-36} {Stats.Ms(s),10} {12.0 * n / s / 1e9,7:F1} {triad / s,9:P0}");
        }
        Row("MLLrSched fused kernel", fused);
        Row("MLLrSched ModelEma.Update (model)", viaModel);
        Row($"PyTorch {ChildProcess.TorchVersion} _foreach_mul_+_foreach_add_", tf);
        Row($"PyTorch {ChildProcess.TorchVersion} per tensor (AveragedModel)", tp);
        Console.WriteLine($"fused EMA vs bandwidth bound: {triad / fused:P0}   (target ≥ 80%: {(triad / fused >= 0.8 ? "met" : "MISSED")})");
        Console.WriteLine();
    }

    private static double Triad(long n, int iters)
    {
        using var a = Tensor.Zeros(new[] { n });
        using var b = Tensor.Randn(new[] { n });
        using var c = Tensor.Randn(new[] { n });
        return Stats.MedianTime(iters, () => FusedKernels.StreamTriad(a, b, c, 0.5));
    }

    private static double Fused(int tensors, long per, int iters)
    {
        var s = Enumerable.Range(0, tensors).Select(_ => (ITensor)Tensor.Randn(new[] { per })).ToArray();
        var p = Enumerable.Range(0, tensors).Select(_ => (ITensor)Tensor.Randn(new[] { per })).ToArray();
        try
        {
            return Stats.MedianTime(iters, () =>
            {
                if (!FusedKernels.Instance.TryEma(s, p, 0.999)) throw new InvalidOperationException("The fused EMA kernel did not apply.");
            });
        }
        finally
        {
            foreach (var t in s.Concat(p)) t.Dispose();
        }
    }
}
