using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MLLrSched.Data;
using MLLrSched.Plotting;
using MLLrSched.Specs;
using MLLrSched.Torch;
using MLLrSched.Torch.Modules;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Serialization;
using MLLrSched.Training;
using Spectre.Console;

namespace MLLrSched.Cli;

/// <summary>
/// <c>mllrsched train --config FILE.json [--out DIR] [--resume CKPT] [--init STATE_DICT.pt]</c>: trains, prints progress,
/// and writes into DIR the metrics CSV, final / EMA / SWA weights (PyTorch format), the checkpoint, SVG plots and a
/// summary. The work is done by <see cref="RunConfig"/> and <see cref="Trainer"/>.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "Run configuration (JSON; see docs/trainer.md).", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder.", DefaultValueFactory = _ => new DirectoryInfo("out") };
        var resume = new Option<FileInfo?>("--resume") { Description = "Continue from this checkpoint (bit-identical to an uninterrupted run on the CPU)." };
        var init = new Option<FileInfo?>("--init") { Description = "Start from these weights: a PyTorch state_dict file (torch.save(model.state_dict()))." };
        var quiet = new Option<bool>("--quiet") { Description = "Only the final summary." };
        var cmd = new Command("train", "Train a model as the config says; write metrics, weights, checkpoint and plots to --out.")
        {
            config, output, resume, init, quiet,
        };
        cmd.SetAction(parse => Run(parse.GetValue(config)!, parse.GetValue(output)!, parse.GetValue(resume), parse.GetValue(init), parse.GetValue(quiet)));
        return cmd;
    }

    private static int Run(FileInfo configFile, DirectoryInfo outDir, FileInfo? resume, FileInfo? init, bool quiet)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        try
        {
            var cfg = RunConfig.Load(configFile.FullName);
            Directory.CreateDirectory(outDir.FullName);
            var checkpoint = Path.Combine(outDir.FullName, "checkpoint.pt");
            var metrics = Path.Combine(outDir.FullName, "metrics.csv");
            var options = cfg.Trainer with { Checkpoint = cfg.Trainer.Checkpoint with { Path = checkpoint }, MetricsFile = metrics };

            var (train, validation, test) = cfg.LoadData();
            using var model = cfg.BuildModel(train);
            if (init != null)
            {
                if (!init.Exists) throw new FileNotFoundException($"--init file '{init.FullName}' does not exist.", init.FullName);
                var sd = TorchFile.Load(init.FullName);
                try { model.LoadStateDict(sd); } finally { foreach (var t in sd.Values) t.Dispose(); }
            }
            var task = cfg.BuildTask(train);
            using var trainer = new Trainer(model, task, options);
            Say(quiet, $"model: {cfg.ModelType}, {model.ParameterCount():N0} parameters; train {train.Count:N0}, validation {validation?.Count ?? 0:N0}, test {test?.Count ?? 0:N0} samples; device {trainer.Device}; libtorch {Torch.Torch.Version}, {Torch.Torch.NumThreads} threads" +
                (Torch.Torch.ProcessTuning.Count > 0 ? $"; process tuning: {string.Join(", ", Torch.Torch.ProcessTuning)}" : ""));
            if (resume != null)
            {
                trainer.LoadCheckpoint(resume.FullName);
                TrimMetrics(metrics, trainer.StepCount);
                Say(quiet, $"resumed from {resume.FullName} at optimizer step {trainer.StepCount}");
            }

            var result = Fit(trainer, train, validation, quiet, cts.Token);
            Say(quiet, result.Message);

            // ---- final evaluation and outputs
            var summary = new Dictionary<string, object?>
            {
                ["stop_reason"] = result.StopReason.ToString(),
                ["message"] = result.Message,
                ["steps"] = result.Steps,
                ["epochs"] = result.Epochs,
                ["skipped_steps"] = result.SkippedSteps,
                ["train_seconds"] = Math.Round(result.Elapsed.TotalSeconds, 1),
            };
            var evalSet = test ?? validation;
            var evalName = test != null ? "test" : "validation";
            if (evalSet != null)
            {
                var final = trainer.Evaluate(evalSet);
                summary[$"{evalName}_loss"] = final.Loss;
                summary[$"{evalName}_accuracy"] = final.Accuracy;
                Console.WriteLine($"{evalName} accuracy: {Fmt(final.Accuracy)}  (loss {final.Loss:F4})");
                if (trainer.Ema != null)
                {
                    var ema = trainer.Evaluate(evalSet, useEma: true);
                    summary[$"ema_{evalName}_loss"] = ema.Loss;
                    summary[$"ema_{evalName}_accuracy"] = ema.Accuracy;
                    Console.WriteLine($"{evalName} accuracy with EMA weights: {Fmt(ema.Accuracy)}  (loss {ema.Loss:F4})");
                }
                if (trainer.Swa != null)
                {
                    using (trainer.Swa.SwapInto(model))
                    {
                        SwaUtilities.UpdateBatchNorm(model, DataLoader.Sequential(train, options.EvalBatchSize));
                        var swa = trainer.Evaluate(evalSet);
                        summary[$"swa_{evalName}_accuracy"] = swa.Accuracy;
                        Console.WriteLine($"{evalName} accuracy with SWA weights: {Fmt(swa.Accuracy)}  (loss {swa.Loss:F4})");
                        SaveState(model, Path.Combine(outDir.FullName, "swa_model.pt"));
                    }
                }
            }
            SaveState(model, Path.Combine(outDir.FullName, "model.pt"));
            if (trainer.Ema != null)
                using (trainer.Ema.SwapInto(model)) SaveState(model, Path.Combine(outDir.FullName, "ema_model.pt"));
            Plots.Write(metrics, outDir.FullName);
            File.WriteAllText(Path.Combine(outDir.FullName, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
            Say(quiet, $"wrote {outDir.FullName}: metrics.csv, model.pt{(trainer.Ema != null ? ", ema_model.pt" : "")}{(trainer.Swa != null ? ", swa_model.pt" : "")}, checkpoint.pt, lr.svg, loss.svg, accuracy.svg, summary.json");
            return result.StopReason == StopReason.NonFinite ? 3 : 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted: checkpoint written; continue with --resume " + Path.Combine(outDir.FullName, "checkpoint.pt"));
            return 130;
        }
        catch (Exception e) when (e is SpecException or ArgumentException or FileNotFoundException or InvalidDataException
                                      or CheckpointException or TorchSerializationException or TorchDeviceException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 2;
        }
    }

    private static TrainingResult Fit(Trainer trainer, InMemoryDataset train, InMemoryDataset? validation, bool quiet, CancellationToken ct)
    {
        if (quiet) return trainer.Fit(train, validation, null, ct);
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
            return trainer.Fit(train, validation, new SyncProgress(p => Console.WriteLine(Line(p))), ct);
        TrainingResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask("training");
                result = trainer.Fit(train, validation, new SyncProgress(p =>
                {
                    bar.MaxValue = Math.Max(1, p.TotalSteps);
                    bar.Value = p.Step;
                    bar.Description = $"epoch {p.Epoch} loss {p.Loss:F4} lr {p.Lr:E2}";
                    if (p.Kind == ProgressKind.Epoch) AnsiConsole.MarkupLine(Markup.Escape(Line(p)));
                }), ct);
            });
        return result!;
    }

    private static string Line(TrainingProgress p) => p.Kind == ProgressKind.Step
        ? $"step {p.Step}/{p.TotalSteps} epoch {p.Epoch} loss {p.Loss:F4} lr {p.Lr:E3} grad_norm {p.GradNorm:F3} {p.SamplesPerSecond:F0} samples/s eta {p.Eta?.ToString(@"hh\:mm\:ss") ?? "-"}"
        : $"epoch {p.Epoch} done: train_loss {p.Loss:F4}" +
          (p.ValLoss is { } vl ? $" val_loss {vl:F4}" : "") + (p.ValAccuracy is { } va ? $" val_acc {va:F4}" : "") +
          (p.EmaValAccuracy is { } ea ? $" ema_val_acc {ea:F4}" : "") + (p.SkippedSteps > 0 ? $" skipped {p.SkippedSteps}" : "") +
          $" elapsed {p.Elapsed:hh\\:mm\\:ss}";

    private static string Fmt(double? v) => v is { } x ? x.ToString("F4", CultureInfo.InvariantCulture) : "-";

    private static void Say(bool quiet, string s)
    {
        if (!quiet) Console.WriteLine(s);
    }

    private static void SaveState(Module model, string path)
    {
        var sd = model.StateDict();
        try { TorchFile.Save(path, sd); } finally { sd.DisposeAll(); }
    }

    /// <summary>A resumed run re-logs the steps after its checkpoint: drop those rows so the file has each step once.</summary>
    private static void TrimMetrics(string path, long step)
    {
        if (!File.Exists(path)) return;
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return;
        var kept = new List<string> { lines[0] };
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (cells.Length > 1 && long.TryParse(cells[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s <= step)
                kept.Add(line);
        }
        File.WriteAllLines(path, kept);
    }

    /// <summary>Calls back on the training thread (System.Progress would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}

/// <summary>The SVG plots of a run, drawn from its metrics file.</summary>
internal static class Plots
{
    public static void Write(string metricsCsv, string dir)
    {
        if (!File.Exists(metricsCsv)) return;
        var rows = MetricsLog.ReadCsv(metricsCsv);
        var steps = rows.Where(r => r["kind"] == "step").ToList();
        var epochs = rows.Where(r => r["kind"] == "epoch").ToList();
        double D(Dictionary<string, string> r, string k) => r.TryGetValue(k, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : double.NaN;

        if (steps.Count > 0)
        {
            new SvgChart { Title = "Learning rate", XLabel = "optimizer step", YLabel = "lr" }
                .AddSeries("lr", steps.Select(r => D(r, "step")).ToArray(), steps.Select(r => D(r, "lr")).ToArray())
                .Save(Path.Combine(dir, "lr.svg"));
            var loss = new SvgChart { Title = "Loss", XLabel = "optimizer step", YLabel = "loss" }
                .AddSeries("train loss", steps.Select(r => D(r, "step")).ToArray(), steps.Select(r => D(r, "loss")).ToArray());
            var withVal = epochs.Where(r => r.ContainsKey("val_loss")).ToList();
            if (withVal.Count > 0)
                loss.AddSeries("validation loss (epoch end)", withVal.Select(r => D(r, "step")).ToArray(), withVal.Select(r => D(r, "val_loss")).ToArray());
            loss.Save(Path.Combine(dir, "loss.svg"));
        }
        var acc = epochs.Where(r => r.ContainsKey("val_accuracy")).ToList();
        if (acc.Count > 0)
        {
            var chart = new SvgChart { Title = "Validation accuracy", XLabel = "epoch", YLabel = "accuracy" }
                .AddSeries("model", acc.Select(r => D(r, "epoch") + 1).ToArray(), acc.Select(r => D(r, "val_accuracy")).ToArray());
            var ema = acc.Where(r => r.ContainsKey("ema_val_accuracy")).ToList();
            if (ema.Count > 0)
                chart.AddSeries("EMA weights", ema.Select(r => D(r, "epoch") + 1).ToArray(), ema.Select(r => D(r, "ema_val_accuracy")).ToArray(), dashed: true);
            chart.Save(Path.Combine(dir, "accuracy.svg"));
        }
    }
}
