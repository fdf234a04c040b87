using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text.Json;
using MLLrSched.Data;
using MLLrSched.Models;
using MLLrSched.Training;

namespace MLLrSched.Bench.Trainer;

/// <summary>
/// Peak resident memory of a CNN training run with micro-batch 128 × 4 accumulation steps against 1 × 128 and
/// 1 × 512, each in its own child process (so one run's peak cannot hide another's). The child loads its data and
/// builds the model, returns what it can to the OS, resets the kernel's high-water mark (/proc/self/clear_refs = 5)
/// and trains; it reports VmHWM (peak RSS) after training and the RSS it started training from.
/// </summary>
internal static class MemoryBench
{
    private static readonly (int Micro, int Accumulation)[] Configs = { (128, 1), (128, 4), (512, 1) };

    public static void Run(BenchOptions o)
    {
        Console.WriteLine($"== Peak RSS of CNN training (Trainer, AdamW + OneCycleLR + clipping + EMA), {o.MemorySteps} optimizer steps, threads {o.Threads}; " +
                          $"one child process per run, median of {o.Rounds} rounds");
        var peaks = Configs.ToDictionary(c => c, _ => new List<double>());
        var baselines = Configs.ToDictionary(c => c, _ => new List<double>());
        for (var round = 1; round <= o.Rounds; round++)
            foreach (var c in Configs)
            {
                var (peak, before) = Child(o, c.Micro, c.Accumulation);
                peaks[c].Add(peak);
                baselines[c].Add(before);
                Console.WriteLine($"round {round}: {c.Accumulation} × {c.Micro}: peak RSS {peak / 1024:F1} MiB (RSS before training {before / 1024:F1} MiB)");
            }
        double Peak((int, int) c) => Stats.Median(peaks[c]);
        double Growth((int, int) c) => Stats.Median(peaks[c].Zip(baselines[c], (p, b) => p - b).ToList());
        var one = Configs[0];
        Console.WriteLine();
        Console.WriteLine($"{"micro-batch × steps",-22} {"peak RSS MiB",13} {"vs 1×128",9} {"growth MiB",11} {"vs 1×128",9}");
        foreach (var c in Configs)
            Console.WriteLine($"{$"{c.Micro} × {c.Accumulation}" + (c.Accumulation > 1 ? $" (= {c.Micro * c.Accumulation})" : ""),-22} " +
                              $"{Peak(c) / 1024,13:F1} {Peak(c) / Peak(one),8:F3}x {Growth(c) / 1024,11:F1} {Growth(c) / Growth(one),8:F3}x");
        var acc = Configs[1];
        var big = Configs[2];
        Console.WriteLine("  growth = peak RSS during training − RSS when training started (activations, gradients, optimizer and EMA state)");
        Console.WriteLine($"4 × 128 vs 1 × 128: {Peak(acc) / Peak(one):F3}x peak RSS (target ≤ 1.15x: {(Peak(acc) / Peak(one) <= 1.15 ? "met" : "MISSED")}); " +
                          $"4 × 128 vs 1 × 512: {Peak(acc) / Peak(big):F3}x peak RSS, {Growth(acc) / Growth(big):F3}x growth");
        Console.WriteLine();
    }

    private static (double PeakKiB, double BeforeKiB) Child(BenchOptions o, int micro, int accumulation)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true };
        ChildProcess.Apply(psi.Environment, ChildProcess.Environment("default"));
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(MemoryBench).Assembly.Location);
        foreach (var a in new[] { "--memory-child", I(micro), I(accumulation), I(o.MemorySteps), I(o.Threads), o.Data }) psi.ArgumentList.Add(a);
        using var proc = Process.Start(psi)!;
        var err = proc.StandardError.ReadToEndAsync();
        var output = proc.StandardOutput.ReadToEnd();
        proc.WaitForExit();
        if (proc.ExitCode != 0) throw new InvalidOperationException($"memory child {accumulation} × {micro} failed: {err.Result}{output}");
        using var doc = JsonDocument.Parse(output.Trim().Split('\n').Last());
        return (doc.RootElement.GetProperty("peak_kib").GetDouble(), doc.RootElement.GetProperty("before_kib").GetDouble());
    }

    /// <summary>The child: trains and prints {"peak_kib", "before_kib"}.</summary>
    public static int ChildMain(string[] args)
    {
        var micro = int.Parse(args[1], CultureInfo.InvariantCulture);
        var accumulation = int.Parse(args[2], CultureInfo.InvariantCulture);
        var steps = int.Parse(args[3], CultureInfo.InvariantCulture);
        var threads = int.Parse(args[4], CultureInfo.InvariantCulture);
        // Enough samples that every configuration trains `steps` optimizer steps within one epoch on the same data.
        var data = FashionMnist.Load(args[5], train: true, imageShape: true).Take(512 * steps + 512, seed: 0);
        MLLrSched.Torch.Torch.ManualSeed(0);
        using var model = ModelFactory.Cnn(new CnnOptions(), MLLrSched.Torch.NativeBackend.Instance);
        var options = new TrainerOptions
        {
            Optimizer = Json("""{"type": "AdamW", "lr": 0.002, "weight_decay": 0.05}"""),
            Scheduler = Json("""{"type": "OneCycleLR", "max_lr": 0.002, "total_steps": "$total_steps"}"""),
            BatchSize = micro,
            GradientAccumulationSteps = accumulation,
            Epochs = 1,
            MaxSteps = steps,
            Clipping = new ClippingOptions { MaxNorm = 1.0 },
            Ema = new EmaOptions { Decay = 0.999 },
            Threads = threads,
            EvaluateEveryEpoch = false,
        };
        using var trainer = new Training.Trainer(model, new ClassificationTask(10, 0.1), options);
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        File.WriteAllText("/proc/self/clear_refs", "5");
        var before = ProcessMemory.RssKib();
        var result = trainer.Fit(data);
        if (result.Steps != steps) throw new InvalidOperationException($"trained {result.Steps} steps, expected {steps}");
        Console.WriteLine($$"""{"peak_kib": {{ProcessMemory.PeakKib()}}, "before_kib": {{before}}}""");
        return 0;
    }

    private static JsonElement Json(string s)
    {
        using var doc = JsonDocument.Parse(s);
        return doc.RootElement.Clone();
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
