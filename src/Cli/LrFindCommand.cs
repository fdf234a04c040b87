using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Plotting;
using MLLrSched.Specs;
using MLLrSched.Training;

namespace MLLrSched.Cli;

/// <summary><c>mllrsched lr-find</c>: the LR range test on a model and data from a run config or flags.</summary>
internal static class LrFindCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "Run config (JSON): data, model, optimizer, batch_size, seed, device and an optional lr_find section. Flags override it." };
        var data = new Option<string?>("--data") { Description = "Training data: fashion-mnist or a CSV file (label in the last column unless --label-column)." };
        var subset = new Option<int?>("--subset") { Description = "Use N samples drawn with the seed (default: all)." };
        var task = new Option<string?>("--task") { Description = "CSV data: classification (default) or regression." };
        task.AcceptOnlyFromAmong("classification", "regression");
        var labelColumn = new Option<string?>("--label-column") { Description = "CSV data: the label column (name, or index without a header)." };
        var model = new Option<string?>("--model") { Description = "mlp (default) or cnn (image data)." };
        model.AcceptOnlyFromAmong("mlp", "cnn");
        var hidden = new Option<string?>("--hidden") { Description = "MLP hidden sizes, e.g. 256,128 (default)." };
        var optimizer = new Option<string?>("--optimizer")
        {
            Description = "Optimizer spec (JSON text or file) with PyTorch names; its lr only sets group ratios. Default: " + LrFindSetup.DefaultOptimizer,
        };
        var startLr = new Option<double?>("--start-lr") { Description = "First learning rate (default 1e-7)." };
        var endLr = new Option<double?>("--end-lr") { Description = "Last learning rate (default 10)." };
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps of the sweep (default 100)." };
        var stepMode = new Option<string?>("--step-mode") { Description = "exp (default) or linear." };
        stepMode.AcceptOnlyFromAmong("exp", "linear");
        var batchSize = new Option<int?>("--batch-size") { Description = "Samples per micro-batch (default 64)." };
        var accumulation = new Option<int?>("--accumulation-steps") { Description = "Micro-batches per optimizer step (default 1)." };
        var beta = new Option<double?>("--beta") { Description = "Loss smoothing beta in [0, 1) (default 0.98)." };
        var diverge = new Option<double?>("--diverge-threshold") { Description = "Stop when the smoothed loss exceeds this × the best (default 4)." };
        var seed = new Option<long?>("--seed") { Description = "Seed of model initialisation, subset, shuffling and dropout (default 0)." };
        var device = new Option<string?>("--device") { Description = "cpu (default), cuda or cuda:N." };
        var output = new Option<string?>("--out") { Description = "Folder for lr_find.csv, lr_find.svg and lr_find.png (created if missing; earlier lr_find files there are replaced)." };
        var engine = new Option<string?>("--engine") { Description = "The engine: native or torchsharp (default: the config's \"engine\", else the one shipped)." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress lines on standard error." };

        var cmd = new Command("lr-find",
            "LR range test: sweep the learning rate over a number of steps on a model and data, stop on divergence, " +
            "restore the weights, plot loss against lr and suggest a learning rate.")
        {
            config, data, subset, task, labelColumn, model, hidden, optimizer, startLr, endLr, steps, stepMode, batchSize,
            accumulation, beta, diverge, seed, device, output, engine, quiet,
        };
        cmd.SetAction(parse =>
        {
            try
            {
                LrFinderOptions Overrides(LrFinderOptions f) => f with
                {
                    StartLr = parse.GetValue(startLr) ?? f.StartLr,
                    EndLr = parse.GetValue(endLr) ?? f.EndLr,
                    NumSteps = parse.GetValue(steps) ?? f.NumSteps,
                    StepMode = parse.GetValue(stepMode) is { } m ? (m == "exp" ? LrStepMode.Exponential : LrStepMode.Linear) : f.StepMode,
                    BatchSize = parse.GetValue(batchSize) ?? f.BatchSize,
                    GradientAccumulationSteps = parse.GetValue(accumulation) ?? f.GradientAccumulationSteps,
                    SmoothingBeta = parse.GetValue(beta) ?? f.SmoothingBeta,
                    DivergeThreshold = parse.GetValue(diverge) ?? f.DivergeThreshold,
                    Seed = parse.GetValue(seed) ?? f.Seed,
                };
                JsonElement? optimizerOverride = parse.GetValue(optimizer) is { } o ? ReadSpec(o) : null;
                Device? deviceOverride = parse.GetValue(device) is { } d ? Device.Parse(d) : null;
                var outDir = parse.GetValue(output);
                if (outDir != null) CheckOutputFolder(outDir);
                LrFindSetup setupBuilt;
                if (parse.GetValue(config) is { } file)
                {
                    var stray = new (string Name, object? Value)[]
                    {
                        ("--data", parse.GetValue(data)), ("--subset", parse.GetValue(subset)), ("--task", parse.GetValue(task)),
                        ("--label-column", parse.GetValue(labelColumn)), ("--model", parse.GetValue(model)), ("--hidden", parse.GetValue(hidden)),
                    }.Where(x => x.Value != null).Select(x => x.Name).ToList();
                    if (stray.Count > 0)
                        throw new ArgumentException($"{string.Join(", ", stray)} cannot be combined with --config: the data and model come from the config's 'data' and 'model' sections.");
                    setupBuilt = LrFindSetup.FromRunConfig(file, Overrides, optimizerOverride, deviceOverride, parse.GetValue(engine));
                }
                else
                {
                    var f = Overrides(new LrFinderOptions());
                    f.Validate();
                    var s = new LrFindSetup.Settings
                    {
                        Finder = f,
                        Data = parse.GetValue(data),
                        Subset = parse.GetValue(subset),
                        Task = parse.GetValue(task) ?? "classification",
                        LabelColumn = parse.GetValue(labelColumn),
                        Model = parse.GetValue(model) ?? "mlp",
                        Hidden = parse.GetValue(hidden) is { } h ? ParseSizes(h) : null,
                        Optimizer = optimizerOverride ?? JsonDocument.Parse(LrFindSetup.DefaultOptimizer).RootElement.Clone(),
                        Device = deviceOverride ?? Device.Cpu,
                    };
                    setupBuilt = LrFindSetup.Build(s, parse.GetValue(engine));
                }
                using var setup = setupBuilt;
                var quietRun = parse.GetValue(quiet);
                if (!quietRun) Console.Error.WriteLine($"lr-find: {setup.Description}");
                var finder = new LrFinder(setup.Options);
                if (!quietRun)
                    finder.Progress = new ConsoleProgress(setup.Options.NumSteps);
                var result = finder.Run(setup.Model, setup.Task, setup.Data, setup.Optimizer);
                Console.Out.Write(result.Describe());
                if (outDir != null)
                {
                    var (csv, svg, png) = LrFinderChart.Save(result, outDir);
                    Console.Out.WriteLine($"wrote {csv}");
                    Console.Out.WriteLine($"wrote {svg}");
                    Console.Out.WriteLine($"wrote {png}");
                }
                return ExitCodes.Ok;
            }
            catch (Exception e)
            {
                return Errors.Report(e, training: false, folder: null);
            }
        });
        return cmd;
    }

    private static void CheckOutputFolder(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full)) throw new CliException(ExitCodes.InvalidInput, $"--out '{path}' is a file; give a folder (it is created if missing).");
        for (var d = Path.GetDirectoryName(full); !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d))
            if (File.Exists(d)) throw new CliException(ExitCodes.InvalidInput, $"--out '{path}' cannot be created: '{d}' is a file, not a folder.");
    }

    private static int[] ParseSizes(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var sizes = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1)
                throw new ArgumentException($"--hidden '{text}': '{parts[i]}' is not a size ≥ 1; give comma-separated sizes such as 256,128.");
        return sizes;
    }

    private static JsonElement ReadSpec(string text)
    {
        var t = text.TrimStart();
        if (!t.StartsWith('{'))
        {
            if (!File.Exists(text)) throw new ArgumentException($"--optimizer '{text}' is neither a JSON object (starting with '{{') nor an existing file.");
            text = File.ReadAllText(text);
        }
        using var doc = MLLrSched.Recipes.StrictJson.Parse(text, "--optimizer");
        return doc.RootElement.Clone();
    }

    /// <summary>A progress line every tenth of the sweep, on standard error.</summary>
    private sealed class ConsoleProgress(int steps) : IProgress<LrFinderPoint>
    {
        private readonly int _every = Math.Max(1, steps / 10);

        public void Report(LrFinderPoint p)
        {
            if (p.Step % _every != 0 && p.Step != steps - 1) return;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  step {p.Step,4}  lr {p.Lr,10:0.###e+0}  loss {p.Loss,9:0.####}  smoothed {p.SmoothedLoss,9:0.####}"));
        }
    }
}
