// Schedule evaluation cost: median ns per scheduler step for each schedule (the Scheduler evaluating the schedule
// and writing the values into the parameter group), next to PyTorch's scheduler.step() for the same schedule,
// timed by /usr/bin/python3 in the same run. Target: ≤ 100 ns per step.
//   dotnet run -c Release --project bench/MLLrSched.Bench.Schedules [-- --steps 200000 --repeats 15]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLLrSched.Optimizers;
using MLLrSched.Schedules;

var steps = ArgInt("--steps", 200_000);
var repeats = ArgInt("--repeats", 15);
var torchSteps = ArgInt("--torch-steps", 20_000);

var cases = new (string Name, string Spec, string? Peer)[]
{
    ("StepLR", """{"type": "StepLR", "step_size": 30, "gamma": 0.9}""", "torch"),
    ("MultiStepLR", """{"type": "MultiStepLR", "milestones": [1000, 5000, 20000, 100000], "gamma": 0.5}""", "torch"),
    ("ExponentialLR", """{"type": "ExponentialLR", "gamma": 0.99999}""", "torch"),
    ("LinearLR", """{"type": "LinearLR", "start_factor": 0.01, "total_iters": 100000}""", "torch"),
    ("PolynomialLR", """{"type": "PolynomialLR", "total_iters": 300000, "power": 2.0}""", "torch"),
    ("CosineAnnealingLR", """{"type": "CosineAnnealingLR", "T_max": 100000, "eta_min": 1e-5}""", "torch"),
    ("CosineAnnealingWarmRestarts", """{"type": "CosineAnnealingWarmRestarts", "T_0": 1000, "T_mult": 2}""", "torch"),
    ("CyclicLR", """{"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 2000, "mode": "triangular2"}""", "torch"),
    ("OneCycleLR", """{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 100000000}""", "torch"),
    ("LambdaLR (expression)", """{"type": "LambdaLR", "lr_lambda": "0.5 * (1 + math.cos(math.pi * epoch / 300000))"}""", "torch"),
    ("MultiplicativeLR", """{"type": "MultiplicativeLR", "lr_lambda": "0.99999"}""", "torch"),
    ("ReduceLROnPlateau", """{"type": "ReduceLROnPlateau", "patience": 10, "factor": 0.9, "min_lr": 1e-6}""", "torch"),
    ("SequentialLR", """{"type": "SequentialLR", "schedulers": [{"type": "LinearLR", "start_factor": 0.01, "total_iters": 1000}, {"type": "CosineAnnealingLR", "T_max": 300000}], "milestones": [1000]}""", "torch"),
    ("ChainedScheduler", """{"type": "ChainedScheduler", "schedulers": [{"type": "LinearLR", "start_factor": 0.01, "total_iters": 1000}, {"type": "ExponentialLR", "gamma": 0.99999}]}""", "torch"),
    ("hf linear", """{"type": "linear", "num_warmup_steps": 1000, "num_training_steps": 300000}""", "torch"),
    ("hf cosine", """{"type": "cosine", "num_warmup_steps": 1000, "num_training_steps": 300000}""", "torch"),
    ("hf warmup_stable_decay", """{"type": "warmup_stable_decay", "num_warmup_steps": 1000, "num_decay_steps": 100000, "num_training_steps": 300000}""", "torch"),
    ("noam", """{"type": "noam", "model_size": 512, "warmup": 4000}""", "torch"),
    // timm has no torch scheduler to time: the peer is timm's own per-step computation, transcribed (see tools/golden/schedules.py).
    ("timm cosine+warmup+cycles", """{"type": "CosineAnnealingLR", "T_max": 10000, "cycle_mul": 2, "cycle_decay": 0.5, "cycle_limit": 10, "warmup_t": 500, "warmup_lr_init": 1e-5}""",
        """{"timm_cosine": {"t_initial": 10000, "cycle_mul": 2, "cycle_decay": 0.5, "cycle_limit": 10, "warmup_t": 500, "warmup_lr_init": 1e-5}}"""),
    ("timm noise (per-step reseed)", """{"type": "CosineAnnealingLR", "T_max": 300000, "noise_range_t": 0, "noise_pct": 0.67}""",
        """{"timm_cosine": {"t_initial": 300000, "noise_range_t": 0, "noise_pct": 0.67}}"""),
};

// Warm the JIT on every path first (tiered compilation would otherwise charge the first cases for it).
var measureSteps = steps;
steps = 20_000;
foreach (var c in cases) { MeasureStep(c.Spec); MeasureValue(c.Spec); }
Thread.Sleep(500);
steps = measureSteps;

var repo = FindRepo();
var torchNs = RunTorch();

Console.WriteLine($"Schedule step cost, median of {repeats} runs × {steps:N0} steps (C#) and × {torchSteps:N0} steps (PyTorch {TorchVersion()})");
Console.WriteLine($"{"schedule",-30} {"ours ns/step",13} {"value() ns",11} {"peer ns/step",13} {"peer/ours",10}  peer");
foreach (var (name, spec, _) in cases)
{
    var ours = MeasureStep(spec);
    var value = MeasureValue(spec);
    var t = torchNs.TryGetValue(name, out var v) ? v : double.NaN;
    var peer = cases.First(c => c.Name == name).Peer == "torch" ? "torch scheduler.step()" : "timm _get_lr + noise (Python)";
    Console.WriteLine($"{name,-30} {ours,13:F1} {value,11:F1} {(double.IsNaN(t) ? "n/a" : t.ToString("F0", CultureInfo.InvariantCulture)),13} {(double.IsNaN(t) ? "" : (t / ours).ToString("F0", CultureInfo.InvariantCulture) + "x"),10}  {peer}");
}
return 0;

double MeasureStep(string spec)
{
    var samples = new List<double>();
    for (var r = 0; r < repeats + 2; r++)
    {
        var opt = new ProbeOptimizer();
        var schedule = ScheduleSpecs.Parse(spec);
        var s = new Scheduler(opt, new[] { schedule.ToBinding() }, new SchedulerOptions { Warn = null });
        opt.Step();
        var metric = s.UsesMetric;
        var sw = Stopwatch.StartNew();
        if (metric) for (var i = 0; i < steps; i++) s.Step(1.0 / (1 + i % 50));
        else for (var i = 0; i < steps; i++) s.Step();
        sw.Stop();
        if (r >= 2) samples.Add(sw.Elapsed.TotalNanoseconds / steps);   // the first runs warm up the JIT
    }
    samples.Sort();
    return samples[samples.Count / 2];
}

double MeasureValue(string spec)
{
    var samples = new List<double>();
    var schedule = ScheduleSpecs.Parse(spec).Schedule;
    schedule.Bind(new[] { 0.1 });
    if (schedule.TryGet<IMetricSchedule>() != null) return double.NaN;
    double sink = 0;
    for (var r = 0; r < repeats + 2; r++)
    {
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++) sink += schedule.Value(i, 0, 0.1);
        sw.Stop();
        if (r >= 2) samples.Add(sw.Elapsed.TotalNanoseconds / steps);
    }
    if (sink == 42) Console.Write("");
    samples.Sort();
    return samples[samples.Count / 2];
}

Dictionary<string, double> RunTorch()
{
    var request = new JsonObject
    {
        ["repo"] = repo,
        ["steps"] = torchSteps,
        ["repeats"] = Math.Max(3, repeats / 2),
        ["cases"] = new JsonArray(cases.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Name,
            ["peer"] = c.Peer == "torch" ? new JsonObject { ["torch"] = JsonNode.Parse(c.Spec) } : c.Peer is { } peer ? JsonNode.Parse(peer) : null,
        }).ToArray()),
    };
    var psi = new ProcessStartInfo("/usr/bin/python3", Path.Combine(AppContext.BaseDirectory, "torch_step_time.py"))
    {
        RedirectStandardInput = true,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };
    using var p = Process.Start(psi)!;
    p.StandardInput.Write(request.ToJsonString());
    p.StandardInput.Close();
    var output = p.StandardOutput.ReadToEnd();
    var error = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0)
    {
        Console.Error.WriteLine("PyTorch timing failed: " + error);
        return new();
    }
    return JsonSerializer.Deserialize<Dictionary<string, double>>(output)!;
}

string TorchVersion()
{
    var psi = new ProcessStartInfo("/usr/bin/python3", "-c \"import torch; print(torch.__version__)\"") { RedirectStandardOutput = true };
    using var p = Process.Start(psi)!;
    var v = p.StandardOutput.ReadToEnd().Trim();
    p.WaitForExit();
    return v + ", Debian python3-torch 1.13.1";
}

string FindRepo()
{
    var d = new DirectoryInfo(AppContext.BaseDirectory);
    while (d != null && !File.Exists(Path.Combine(d.FullName, "MLLrSched.sln"))) d = d.Parent;
    return d?.FullName ?? throw new InvalidOperationException("Run from inside the repository (MLLrSched.sln not found above the binary).");
}

int ArgInt(string name, int dflt)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : dflt;
}

internal sealed class ProbeOptimizer : IOptimizer
{
    public IReadOnlyList<ParamGroup> ParamGroups { get; } = new[]
    {
        new ParamGroup(Array.Empty<MLLrSched.Backend.ITensor>(), new Dictionary<string, double> { ["lr"] = 0.1, ["momentum"] = 0.9 }),
    };

    public long StepCount { get; private set; }
    public void Step() => StepCount++;
    public double Step(Func<double> closure) { var l = closure(); Step(); return l; }
    public void ZeroGrad(bool setToNone = true) { }
}
