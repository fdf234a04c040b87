using System.Diagnostics;
using MLLrSched.Data;
using MLLrSched.TorchSharpBackend;
using TorchSharp;
using static TorchSharp.torch;

namespace MLLrSched.Bench.TorchSharp;

/// <summary>
/// The same training as <see cref="BenchPolicy"/> written the way TorchSharp users write it today: TorchSharp's own
/// <c>torch.optim.AdamW</c> and <c>lr_scheduler.OneCycleLR</c>, <c>torch.nn.utils.clip_grad_norm_</c>, an EMA of the
/// weights by hand (mul_/add_ per tensor under no_grad; the first update copies, float buffers averaged and integer
/// buffers copied, as the policy does), batches by indexing the training tensor with a randperm slice, and the loss
/// read every step for the log. Temporaries (batches, activations, the loss, optimizer intermediates, the Scalars
/// made from .NET numbers) are left to the garbage collector, as in TorchSharp's own examples — unless
/// <paramref name="scoped"/>, which wraps each step in a dispose scope (the careful way).
/// </summary>
internal static class HandWrittenLoop
{
    public static int Run(StepChildOptions o, bool scoped)
    {
        _ = new TorchSharpEngine();   // loads TorchSharp's native library, with a clear message when it cannot
        torch.set_num_threads(o.Threads);
        var image = o.Model == "cnn";

        // The training set as two tensors, as TorchSharp examples keep it.
        var pixels = FashionMnist.ReadIdx(Path.Combine(o.Data, "train-images-idx3-ubyte.gz"), 3, out var dims);
        var labels = FashionMnist.ReadIdx(Path.Combine(o.Data, "train-labels-idx1-ubyte.gz"), 1, out _);
        var n = dims[0];
        var xs = new float[pixels.Length];
        for (var i = 0; i < xs.Length; i++) xs[i] = pixels[i] / 255f;
        var ys = labels.Select(l => (long)l).ToArray();
        var xAll = torch.tensor(xs, image ? new long[] { n, 1, 28, 28 } : new long[] { n, 784 });
        var yAll = torch.tensor(ys, new long[] { n });

        torch.manual_seed(0);
        // The same TorchSharp modules our engine builds for the spec (nn.Sequential of Linear/ReLU/Dropout, or the CNN).
        var model = TorchSharpModuleBuilder.Create(BenchPolicy.Spec(o.Model));
        model.train();
        var optimizer = torch.optim.AdamW(model.parameters(), lr: BenchPolicy.Lr, weight_decay: BenchPolicy.WeightDecay);
        var scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr: BenchPolicy.Lr, total_steps: o.Steps);

        var emaParams = model.parameters().Select(p => p.detach().clone()).ToArray();
        var emaBuffers = model.buffers().Select(b => b.detach().clone()).ToArray();
        var emaUpdates = 0;

        var batchesPerEpoch = (n + o.BatchSize - 1) / o.BatchSize;
        Tensor? perm = null;
        var batchIndex = batchesPerEpoch;
        double lossSum = 0;
        var stamps = new List<(int Step, long Ticks)>();
        long go = 0;
        void WaitForGo()
        {
            var line = Console.ReadLine();
            if (line?.Trim() != "go") throw new InvalidOperationException($"expected 'go' on stdin, got '{line}'");
            go = Stopwatch.GetTimestamp();
        }
        if (o.Paired)
        {
            Console.WriteLine("ready");
            WaitForGo();
        }
        var start = Stopwatch.GetTimestamp();
        for (var step = 1; step <= o.Steps; step++)
        {
            var scope = scoped ? torch.NewDisposeScope() : null;
            if (batchIndex == batchesPerEpoch)
            {
                if (scoped) perm?.Dispose();   // a user's loop leaves the old permutation to the GC as well
                perm = torch.randperm(n);
                if (scoped) perm.DetachFromDisposeScope();
                batchIndex = 0;
            }
            var idx = perm!.narrow(0, batchIndex * o.BatchSize, Math.Min(o.BatchSize, n - batchIndex * o.BatchSize));
            batchIndex++;
            var x = xAll[idx];
            var y = yAll[idx];

            optimizer.zero_grad();
            var output = model.forward(x);
            var loss = torch.nn.functional.cross_entropy(output, y, null, -100, torch.nn.Reduction.Mean, BenchPolicy.LabelSmoothing);
            lossSum += loss.item<float>();
            loss.backward();
            torch.nn.utils.clip_grad_norm_(model.parameters(), BenchPolicy.MaxNorm);
            optimizer.step();
            scheduler.step();

            using (torch.no_grad())
            {
                var d = emaUpdates == 0 ? 0.0 : BenchPolicy.EmaDecay;
                var live = model.parameters().ToArray();
                for (var i = 0; i < emaParams.Length; i++) emaParams[i].mul_(d).add_(live[i], alpha: 1 - d);
                var buffers = model.buffers().ToArray();
                for (var i = 0; i < emaBuffers.Length; i++)
                    if (buffers[i].is_floating_point()) emaBuffers[i].mul_(d).add_(buffers[i], alpha: 1 - d);
                    else emaBuffers[i].copy_(buffers[i]);
                emaUpdates++;
            }
            scope?.Dispose();

            if (step % o.Every == 0)
            {
                var now = Stopwatch.GetTimestamp();
                stamps.Add((step, now));
                if (o.Paired)
                {
                    Console.WriteLine($"block {BenchPolicy.F((now - go) / (double)Stopwatch.Frequency)} {ProcessMemory.RssKib()}");
                    if (step < o.Steps) WaitForGo();
                }
            }
        }
        var blocks = new List<double>();
        for (var i = 1; i < stamps.Count; i++)
            if (stamps[i - 1].Step >= o.Warmup && stamps[i].Step - stamps[i - 1].Step == o.Every)
                blocks.Add((stamps[i].Ticks - stamps[i - 1].Ticks) / (double)Stopwatch.Frequency / o.Every);
        var median = o.Paired || blocks.Count == 0 ? double.NaN : Stats.Median(blocks);
        var total = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
        Console.WriteLine($$"""{"step_median": {{(double.IsNaN(median) ? "null" : BenchPolicy.F(median))}}, "steps": {{o.Steps}}, "total_seconds": {{BenchPolicy.F(total)}}, "mean_loss": {{BenchPolicy.F(lossSum / o.Steps)}}}""");
        return 0;
    }
}
