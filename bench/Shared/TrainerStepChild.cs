using System.Diagnostics;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Models;
using MLLrSched.Training;

namespace MLLrSched.Bench;

/// <summary>What a step child trains: model key, data, batch, steps, blocks and threads.</summary>
internal sealed record StepChildOptions(string Model, string Data, int BatchSize, int Steps, int Warmup, int Every, int Threads, bool Paired);

/// <summary>
/// The child process that trains the benchmark's model through the real <see cref="Training.Trainer"/> on one engine
/// (whichever <see cref="IBackend"/> the benchmark passes: each benchmark executable references exactly one engine).
/// Paired mode (see <see cref="PairedRun"/>): prints "ready", then for every block of Every steps waits for "go" on
/// stdin and prints "block SECONDS RSS_KIB". Last line: {"step_median": seconds or null, "steps", "total_seconds"}.
/// </summary>
internal static class TrainerStepChild
{
    public static int Run(IBackend backend, StepChildOptions o)
    {
        backend.NumThreads = o.Threads;
        var image = o.Model == "cnn";
        var data = FashionMnist.Load(o.Data, train: true, imageShape: image);
        backend.ManualSeed(0);
        using var model = ModelFactory.Build(BenchPolicy.Spec(o.Model), backend);
        var options = BenchPolicy.TrainerOptions(o.BatchSize, o.Steps, o.Threads, o.Every);
        using var trainer = new Training.Trainer(model, new ClassificationTask(10, BenchPolicy.LabelSmoothing), options);
        long go = 0;
        void WaitForGo()
        {
            var line = Console.ReadLine();
            if (line?.Trim() != "go") throw new InvalidOperationException($"expected 'go' on stdin, got '{line}'");
            go = Stopwatch.GetTimestamp();
        }
        var stamps = new List<(long Step, long Ticks)>();
        var progress = new Stamp(p =>
        {
            if (p.Kind != ProgressKind.Step || p.Step % o.Every != 0) return;
            var now = Stopwatch.GetTimestamp();
            stamps.Add((p.Step, now));
            if (!o.Paired) return;
            Console.WriteLine($"block {BenchPolicy.F((now - go) / (double)Stopwatch.Frequency)} {ProcessMemory.RssKib()}");
            if (p.Step < o.Steps) WaitForGo();
        });
        if (o.Paired)
        {
            Console.WriteLine("ready");
            WaitForGo();
        }
        var result = trainer.Fit(data, null, progress);
        var blocks = new List<double>();
        for (var i = 1; i < stamps.Count; i++)
            if (stamps[i - 1].Step >= o.Warmup && stamps[i].Step - stamps[i - 1].Step == o.Every)
                blocks.Add((stamps[i].Ticks - stamps[i - 1].Ticks) / (double)Stopwatch.Frequency / o.Every);
        var median = o.Paired || blocks.Count == 0 ? double.NaN : Stats.Median(blocks);
        Console.WriteLine($$"""{"step_median": {{(double.IsNaN(median) ? "null" : BenchPolicy.F(median))}}, "steps": {{result.Steps}}, "total_seconds": {{BenchPolicy.F(result.Elapsed.TotalSeconds)}}}""");
        return 0;
    }

    /// <summary>A synchronous IProgress (Progress&lt;T&gt; would post to the thread pool and time the post, not the step).</summary>
    private sealed class Stamp(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
