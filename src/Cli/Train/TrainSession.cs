using System.Globalization;
using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Backend.Engines;
using MLLrSched.Backend.Modules;
using MLLrSched.Backend.Persistence;
using MLLrSched.Data;
using MLLrSched.Models;
using MLLrSched.Plotting;
using MLLrSched.Recipes;
using MLLrSched.Training;
using MLLrSched.Training.Policies;
using Spectre.Console;

namespace MLLrSched.Cli.Train;

/// <summary>
/// One <c>mllrsched train</c>: everything knowable is checked first — paths, the config, the folder, the resume's
/// settings, the device, the data, the model's size, the trainer's options — without writing anything; then the
/// trainer runs, and at its start (after its own checks) the folder is claimed. From then on every ending — completed,
/// stopped early, diverged, interrupted, failed — writes summary.json saying which, and the charts.
/// </summary>
internal sealed class TrainSession : IDisposable
{
    private readonly TrainArgs _a;
    private readonly Signals _signals = new();
    private readonly RunSummary _summary = new();
    private readonly List<string> _written = [];
    private readonly DateTime _started = DateTime.UtcNow;
    private RunFolder? _folder;
    private FolderMode _mode;
    private string? _checkpointToLoad;
    private string? _configPath;
    private RunConfig _cfg = null!;
    private IEngine _engine = null!;
    private IModel? _model;
    private Trainer? _trainer;
    private InMemoryDataset _train = null!;
    private InMemoryDataset? _validation, _test;
    private long? _resumedFrom;
    private LrLog? _lrLog;

    public TrainSession(TrainArgs args) => _a = args;

    private bool Training => _folder is { Claimed: true };

    public int Run()
    {
        try
        {
            if (!Prepare()) return ExitCodes.Ok;
            return TrainAndFinish();
        }
        catch (OperationCanceledException) when (_signals.Received != null && Training)
        {
            return Ending("interrupted", _signals.ExitCode,
                $"interrupted by {_signals.Name} at optimizer step {_trainer?.StepCount}; the checkpoint was written.",
                $"continue with: mllrsched train --resume {Quote(_folder!.FullPath)}", final: false);
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    // ------------------------------------------------------------------ checks (nothing is written)

    /// <summary>Every check; false when there is nothing to do (resuming a run that has ended, unchanged).</summary>
    private bool Prepare()
    {
        // Where: the checkpoint to continue, the folder, the mode.
        string? checkpoint = null;
        if (_a.ResumeGiven)
        {
            var target = _a.Resume ?? _a.Out ?? "out";
            var full = FullPath(target, "--resume");
            if (Directory.Exists(full))
            {
                checkpoint = Path.Combine(full, "checkpoint.pt");
                if (!File.Exists(checkpoint))
                    throw new CliException(ExitCodes.InvalidInput, $"--resume: the folder '{target}' has no checkpoint.pt" +
                        (Directory.GetFiles(full).Length == 0 ? " (it is empty)." : "; give the checkpoint file, or start a new run (without --resume)."));
            }
            else if (File.Exists(full)) checkpoint = full;
            else throw new CliException(ExitCodes.InvalidInput, $"--resume: '{target}' does not exist.");
        }
        var outDir = _a.Out ?? (checkpoint != null ? Path.GetDirectoryName(checkpoint)! : "out");
        _folder = RunFolder.Inspect(outDir);
        if (checkpoint != null)
        {
            _mode = Path.GetDirectoryName(checkpoint) == _folder.FullPath ? FolderMode.Resume : FolderMode.Fork;
            if (_mode == FolderMode.Resume && _a.Overwrite)
                throw new CliException(ExitCodes.InvalidInput, "--overwrite starts a new run and --resume continues the one in the folder; give one of them.");
            if (_mode == FolderMode.Fork && _folder.HoldsRun && !_a.Overwrite)
                throw new CliException(ExitCodes.Refused,
                    $"--out '{outDir}' holds {_folder.DescribeRun()}; continuing {checkpoint} there would mix two runs. " +
                    "Choose an empty --out, leave --out out to continue in the checkpoint's own folder, or add --overwrite to move that run to its archive/ first.");
            _checkpointToLoad = checkpoint;
        }
        else
        {
            _mode = _a.Overwrite ? FolderMode.Overwrite : FolderMode.New;
            if (_mode == FolderMode.New && _folder.HoldsRun)
                throw new CliException(ExitCodes.Refused, RefuseNewRun(outDir));
        }

        // What: the config (given, or recorded in the checkpoint), and the engine.
        string? configEngine = null;   // a resume without --config takes the engine the checkpoint's config names
        if (_a.Config != null)
        {
            _cfg = RunConfig.Load(_a.Config);
            _configPath = Path.GetFullPath(_a.Config);
            configEngine = _cfg.Engine is { } e && e != "auto" ? e : null;
        }
        else if (checkpoint == null)
            throw new CliException(ExitCodes.InvalidInput, "--config is required for a new run (it may be left out only with --resume, whose checkpoint records its config).");
        LoadEngine(_a.Engine ?? configEngine);
        if (checkpoint != null)
        {
            var changes = CompareWithCheckpoint(checkpoint);
            if (_mode == FolderMode.Resume && _folder.Summary is { Status: "completed" or "early_stopped" } ended
                && !changes.Any(c => c.Key is "epochs" or "max_steps"))
            {
                Console.Error.WriteLine($"nothing to do: the run in {_folder.FullPath} has ended ({ended.Status}, step {ended.Steps}) and its results are there. " +
                    "To train it further, raise \"epochs\" (or max_steps) in its config and resume with --config; to start again, use --overwrite.");
                return false;
            }
        }

        // Where it runs, the data, the model.
        var backend = _engine.Backend;
        try { backend.ResolveDevice(_cfg.Trainer.Device, _cfg.Trainer.FallbackToCpu); }
        catch (Exception x) when (x is not OutOfMemoryException)
        {
            // The seam says InvalidOperationException; engines may throw their own type (the native one does).
            throw new CliException(ExitCodes.InvalidInput, $"\"device\": {_cfg.DeviceDescription} is not available: {x.Message}");
        }
        (_train, _validation, _test) = _cfg.LoadData();
        CheckBatchGeometry();
        var spec = _cfg.ModelSpec(_train);
        CheckMemory(spec);
        try { _model = _cfg.BuildModel(_train, backend); }
        catch (NotSupportedException x) { throw new CliException(ExitCodes.InvalidInput, x.Message); }
        if (_a.Init != null) LoadInit(_a.Init);
        var task = _cfg.BuildTask(_train);
        var options = _cfg.Trainer with
        {
            Checkpoint = _cfg.Trainer.Checkpoint with { Path = _folder.PathOf("checkpoint.pt") },
            MetricsFile = _folder.PathOf(RunCharts.MetricsFileName),
        };
        var record = JsonSerializer.Serialize(new Dictionary<string, string?>
        {
            ["config"] = ResumeRules.Record(_cfg, _configPath), ["engine"] = _engine.Name,
        });
        var policies = new IStepPolicy[]
        {
            new RunRecordPolicy(record, ClaimFolder),
            _lrLog = new LrLog(_folder.PathOf(RunCharts.LrFileName), Note),
        };
        _trainer = new Trainer(_model, task, options, policies: policies);
        if (_trainer.Warning is { } w) Note(w);
        if (checkpoint != null)
        {
            _trainer.LoadCheckpoint(checkpoint);
            _resumedFrom = _trainer.StepCount;
        }
        return true;
    }

    private string RefuseNewRun(string outDir)
    {
        var f = _folder!;
        var config = _a.Config != null ? $"--config {Quote(_a.Config)} " : "";
        var lines = new List<string> { $"--out '{outDir}' already holds {f.DescribeRun()}; a new run there would overwrite it." };
        if (f.Files.Contains("checkpoint.pt") && f.Summary?.IsFinal != true)
            lines.Add($"  to continue that run:  mllrsched train --resume {Quote(outDir)}");
        else if (f.Files.Contains("checkpoint.pt"))
            lines.Add($"  to train it further:   raise \"epochs\" and run  mllrsched train {config}--resume {Quote(outDir)}");
        lines.Add($"  to replace it:         add --overwrite (its files are moved to {Path.Combine(outDir, RunFolder.ArchiveName)}/..., nothing is deleted)");
        lines.Add("  or choose another --out.");
        return string.Join("\n", lines);
    }

    private static string FullPath(string path, string what)
    {
        try { return Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"{what} '{path}' is not a valid path: {e.Message}");
        }
    }

    private void LoadEngine(string? name)
    {
        try { _engine = EngineRegistry.Load(name); }
        catch (Exception x) when (x is InvalidOperationException or ArgumentException or DllNotFoundException or BadImageFormatException or TypeInitializationException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"engine: {(x is TypeInitializationException { InnerException: { } inner } ? inner.Message : x.Message)}");
        }
    }

    /// <summary>The checkpoint's recorded config against this run's: refuses changed settings that define the run (listing
    /// them), notes the others; without --config, the recorded config is the run's.</summary>
    private IReadOnlyList<ResumeChange> CompareWithCheckpoint(string checkpoint)
    {
        var (record, engine) = ReadRecord(checkpoint);
        if (engine != null && engine != _engine.Name)
            throw new CliException(ExitCodes.Refused,
                $"--resume: the checkpoint was written by the '{engine}' engine, this run uses '{_engine.Name}'; its random state belongs to '{engine}'. " +
                $"Resume with --engine {engine}, or start a new run from its weights (--init {Quote(Path.Combine(Path.GetDirectoryName(checkpoint)!, "model.pt"))}).");
        if (record == null)
        {
            if (_cfg == null)
                throw new CliException(ExitCodes.InvalidInput, $"--resume: {checkpoint} records no run config (it was written by an older version or from C#); give the run's --config.");
            Note("the checkpoint records no run config (older version), so changed settings cannot be detected; make sure --config is the run's config");
            return [];
        }
        RunConfig recorded;
        ResumeRules.Recorded saved;
        try
        {
            saved = ResumeRules.ReadRecord(record);
            var (text, baseDir, path) = (saved.Text, saved.BaseDirectory, saved.Path);
            recorded = ResumeRules.ParseRecorded(text, baseDir);
            if (_cfg == null)
            {
                _cfg = recorded;
                _configPath = path;
                Note($"using the config recorded in the checkpoint{(path != null ? $" (read from {path})" : "")}");
            }
        }
        catch (Exception x) when (x is JsonException or ArgumentException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"--resume: the config recorded in {checkpoint} cannot be read ({x.Message}); give the run's --config.");
        }
        var changes = ResumeRules.Compare(recorded, _cfg).Concat(ResumeRules.CompareData(saved.DataFiles, _cfg)).ToList();
        var refused = changes.Where(c => !c.Allowed).ToList();
        if (refused.Count > 0)
            throw new CliException(ExitCodes.Refused,
                $"--resume: the config differs from the one the checkpoint was written with, in settings that define the run:\n" +
                string.Join("\n", refused.Select(c => "  " + c)) +
                "\nResuming would not continue that run. Resume with the original config (leave --config out to use the recorded one), " +
                "or start a new run in another folder (--init " + Quote(Path.Combine(Path.GetDirectoryName(checkpoint)!, "model.pt")) +
                " starts from its final weights). The rules: docs/checkpoints.md#resuming-with-changed-settings.");
        foreach (var c in changes) Note($"resume applies a changed setting: {c}");
        return changes;
    }

    /// <summary>The run record of a checkpoint (null for checkpoints written without one), and the engine that wrote it.</summary>
    private (string? Config, string? Engine) ReadRecord(string checkpoint)
    {
        var b = _engine.Backend;
        using var scope = b.NewScope();
        object? root;
        try { root = StateFile.Load(checkpoint, b); }
        catch (Exception x) when (x is TorchSerializationException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"--resume: checkpoint '{checkpoint}' cannot be read: {x.Message}");
        }
        if (root is not TorchDict d || !d.ContainsKey("format") || d["format"] as string != Trainer.CheckpointFormat)
            throw new CliException(ExitCodes.InvalidInput,
                $"--resume: '{checkpoint}' is a PyTorch file but not an MLLrSched checkpoint" +
                (root is TorchDict sd && sd.Values.All(v => v is ITensor) ? " (it holds weights only: to start a new run from them, use --init)." : "."));
        if (d["policies"] is TorchDict policies && policies[RunRecordPolicy.SectionName] is TorchDict run && run[RunRecordPolicy.ConfigKey] is string json)
        {
            try
            {
                var r = JsonSerializer.Deserialize<Dictionary<string, string?>>(json);
                return (r?.GetValueOrDefault("config"), r?.GetValueOrDefault("engine"));
            }
            catch (JsonException) { return (null, null); }
        }
        return (null, null);
    }

    private void LoadInit(string path)
    {
        var full = FullPath(path, "--init");
        if (Directory.Exists(full)) throw new CliException(ExitCodes.InvalidInput, $"--init '{path}' is a folder; give a state_dict file such as {Path.Combine(path, "model.pt")}.");
        if (!File.Exists(full)) throw new CliException(ExitCodes.InvalidInput, $"--init '{path}' does not exist.");
        using (_engine.Backend.NewScope())
        {
            object? content;
            try { content = StateFile.Load(full, _engine.Backend); }
            catch (Exception x) when (x is TorchSerializationException or IOException)
            {
                throw new CliException(ExitCodes.InvalidInput, $"--init '{path}' is not a PyTorch state_dict file: {x.Message}");
            }
            if (content is TorchDict d && d.ContainsKey("format") && d["format"] as string == Trainer.CheckpointFormat)
                throw new CliException(ExitCodes.InvalidInput,
                    $"--init '{path}' is an MLLrSched checkpoint, not a state_dict. To continue that run: --resume {Quote(path)}. " +
                    $"To start a new run from its weights: --init {Quote(Path.Combine(Path.GetDirectoryName(full)!, "model.pt"))} (or ema_model.pt).");
        }
        try { ModelState.Load(_model!, full); }
        catch (Exception x) when (x is ArgumentException or TorchSerializationException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"--init: {Errors.Clean(x as ArgumentException ?? new ArgumentException(x.Message))}");
        }
        Note($"initial weights from {full}");
    }

    /// <summary>An accumulation window never spans epochs, so one longer than an epoch's batches only allocates.</summary>
    private void CheckBatchGeometry()
    {
        var t = _cfg.Trainer;
        var batches = t.DropLast ? _train.Count / t.BatchSize : ((long)_train.Count + t.BatchSize - 1) / t.BatchSize;
        if (batches == 0)
            throw new CliException(ExitCodes.InvalidInput, $"batch_size {t.BatchSize} with drop_last leaves no batch of the {_train.Count} training samples; lower batch_size or set \"drop_last\": false.");
        if (t.GradientAccumulationSteps > batches)
            throw new CliException(ExitCodes.InvalidInput,
                $"gradient_accumulation_steps = {t.GradientAccumulationSteps} is more than the {batches} batches of an epoch ({_train.Count} samples, batch_size {t.BatchSize}); " +
                $"an accumulation window never spans epochs, so use at most {batches}.");
    }

    /// <summary>Refuses a model whose weights, gradients, optimizer state and averages (plus one batch's activations)
    /// would not fit in this machine's memory, before anything is allocated.</summary>
    private void CheckMemory(ModuleSpec spec)
    {
        if (ModelFactory.TensorElements(spec) is not { } elements) return;
        var t = _cfg.Trainer;
        var copies = 4 + (t.Ema != null ? 1 : 0) + (t.Swa != null ? 1 : 0) + (t.EarlyStopping != null ? 1 : 0);
        double activations = 0;
        if (spec is SequentialSpec seq)
        {
            var shape = _train.SampleShape.Select(x => (int)x).ToArray();
            foreach (var block in seq.Blocks)
            {
                shape = block.OutputShape(shape);
                activations += shape.Aggregate(1.0, (a, b) => a * b);
            }
            activations *= Math.Min(t.BatchSize, _train.Count) * 2.0 * 4;
        }
        var bytes = elements * 4.0 * copies + activations;
        var available = (double)GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > 0.8 * available)
            throw new CliException(ExitCodes.InvalidInput,
                $"the model has {elements:N0} parameters: weights, gradients, optimizer state{(copies > 4 ? " and averages" : "")} and one batch's activations need about " +
                $"{bytes / 1e9:N1} GB, more than this machine's {available / 1e9:N1} GB of memory. Use smaller hidden sizes or channels, or a smaller batch_size.");
    }

    // ------------------------------------------------------------------ training (the folder is claimed at its start)

    /// <summary>Called by <see cref="RunRecordPolicy"/> once the trainer's own checks have passed.</summary>
    private void ClaimFolder()
    {
        var notes = _folder!.Claim(_mode, _mode == FolderMode.Fork ? Path.GetDirectoryName(_checkpointToLoad) : null, _a.Overwrite);
        foreach (var n in notes) Note(n);
        AtomicFile.WriteAllText(_folder.PathOf("config.json"), _cfg.SourceText.EndsWith('\n') ? _cfg.SourceText : _cfg.SourceText + "\n");
        _summary["status"] = "running";
        _summary["exit_code"] = null;
        _summary["message"] = $"training (process {Environment.ProcessId}); if that process is gone, it was killed: continue with --resume";
        _summary["pid"] = Environment.ProcessId;
        _summary["command"] = "mllrsched " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1).Select(Quote));
        _summary["config"] = _configPath;
        _summary["engine"] = _engine.Name;
        _summary["device"] = _trainer!.Device.ToString();
        _summary["started_at"] = _started.ToString("O", CultureInfo.InvariantCulture);
        _summary["resumed_from_step"] = _resumedFrom;
        _summary.Write(_folder.PathOf("summary.json"));
    }

    private int TrainAndFinish()
    {
        var trainer = _trainer!;
        var model = _model!;
        Say($"model: {_cfg.ModelType}, {Parameters(model):N0} parameters; train {_train.Count:N0}, validation {_validation?.Count ?? 0:N0}, test {_test?.Count ?? 0:N0} samples; " +
            $"device {trainer.Device}; engine {_engine.Name} (libtorch {_engine.Backend.LibtorchVersion}), {_engine.Backend.NumThreads} threads");
        if (_resumedFrom is { } step) Say($"resuming from {_checkpointToLoad} at optimizer step {step}");
        _signals.Training();
        var result = Fit(trainer);
        _signals.Finishing();
        Say(result.Message);

        var (status, code) = result.StopReason switch
        {
            StopReason.EarlyStopped => ("early_stopped", ExitCodes.Ok),
            StopReason.NonFinite => ("diverged", ExitCodes.Diverged),
            _ => ("completed", ExitCodes.Ok),
        };
        _summary["steps"] = result.Steps;
        _summary["epochs"] = result.Epochs;
        _summary["skipped_steps"] = result.SkippedSteps;
        _summary["train_seconds"] = result.History.Count > 0 ? Math.Round(result.History[^1].Elapsed.TotalSeconds, 1) : null;
        _summary["session_seconds"] = Math.Round(result.Elapsed.TotalSeconds, 1);
        if (result.RestoredBestEpoch is { } best) _summary["restored_best_epoch"] = best;
        var evalSet = _test ?? _validation;
        var evalName = _test != null ? "test" : "validation";
        if (evalSet != null)
        {
            var final = trainer.Evaluate(evalSet);
            _summary[$"{evalName}_loss"] = final.Loss;
            _summary[$"{evalName}_accuracy"] = final.Accuracy;
            Console.WriteLine($"{evalName} accuracy: {Fmt(final.Accuracy)}  (loss {Fmt(final.Loss)})");
            if (trainer.Ema != null)
            {
                var ema = trainer.Evaluate(evalSet, useEma: true);
                _summary[$"ema_{evalName}_loss"] = ema.Loss;
                _summary[$"ema_{evalName}_accuracy"] = ema.Accuracy;
                Console.WriteLine($"{evalName} accuracy with EMA weights: {Fmt(ema.Accuracy)}  (loss {Fmt(ema.Loss)})");
            }
        }
        Save("model.pt", () => ModelState.Save(model, _folder!.PathOf("model.pt")));
        if (trainer.Ema != null)
            Save("ema_model.pt", () => { using (trainer.Ema.SwapInto(model)) ModelState.Save(model, _folder!.PathOf("ema_model.pt")); });
        if (trainer.Swa != null)
        {
            using (trainer.Swa.SwapInto(model))
            {
                SwaUtilities.UpdateBatchNorm(model, DataLoader.Sequential(_train, _cfg.Trainer.EvalBatchSize), trainer.Device);
                if (evalSet != null)
                {
                    var swa = trainer.Evaluate(evalSet);
                    _summary[$"swa_{evalName}_loss"] = swa.Loss;
                    _summary[$"swa_{evalName}_accuracy"] = swa.Accuracy;
                    Console.WriteLine($"{evalName} accuracy with SWA weights: {Fmt(swa.Accuracy)}  (loss {Fmt(swa.Loss)})");
                }
                Save("swa_model.pt", () => ModelState.Save(model, _folder!.PathOf("swa_model.pt")));
            }
        }
        var next = status == "diverged"
            ? "lower the learning rate (mllrsched lr-find suggests one), add clip_grad_norm, or set \"nonfinite\": \"skip\"; then start again with --overwrite"
            : "to train longer, raise \"epochs\" and run mllrsched train --resume " + Quote(_folder!.FullPath);
        return Ending(status, code, result.Message, next, final: true);
    }

    private void Save(string name, Action save)
    {
        save();
        _written.Add(name);
    }

    /// <summary>Writes the charts and summary.json for an ending, prints where everything is, returns the exit code.</summary>
    private int Ending(string status, int code, string message, string? next, bool final)
    {
        var folder = _folder!;
        _summary["status"] = status;
        _summary["exit_code"] = code;
        _summary["message"] = message;
        if (next != null) _summary["next"] = next;
        _summary["steps"] = _trainer?.StepCount;
        _summary["ended_at"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        try
        {
            foreach (var f in RunCharts.Write(folder.FullPath)) _written.Add(Path.GetFileName(f));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _summary.Warn($"charts not drawn: {e.GetType().Name}: {e.Message}");
        }
        var files = new[] { "metrics.csv", "lr.csv", "checkpoint.pt", "config.json" }.Where(f => File.Exists(folder.PathOf(f))).Concat(_written).Append("summary.json").Distinct().ToList();
        _summary["files"] = files;
        _summary.Write(folder.PathOf("summary.json"));
        foreach (var w in _summary.Warnings) Console.Error.WriteLine("warning: " + w);
        if (code == ExitCodes.Ok) Say($"wrote {folder.FullPath}: {string.Join(", ", files)}");
        else
        {
            Console.Error.WriteLine($"{status}: {message}");
            if (next != null) Console.Error.WriteLine($"next: {next}");
            Console.Error.WriteLine($"wrote {folder.FullPath}: {string.Join(", ", files)}");
        }
        return code;
    }

    private int Fail(Exception e)
    {
        var training = Training;
        var (code, message) = Errors.Describe(e, training);
        if (!training)
        {
            // Nothing was written: the folder is as it was.
            return Errors.Report(e, training: false, folder: null);
        }
        if (code == ExitCodes.InternalError && Errors.WriteDetails(e, _folder!.FullPath) is { } details)
            message += $" Details: {details}. Please report it.";
        Console.Error.WriteLine("error: " + message);
        try { _lrLog?.Dispose(); } catch (IOException) { }   // its buffered rows, for the chart
        var hasCheckpoint = File.Exists(_folder!.PathOf("checkpoint.pt"));
        try
        {
            return Ending(code == ExitCodes.Diverged ? "diverged" : "failed", code, message,
                hasCheckpoint ? $"fix the cause, then continue with: mllrsched train --resume {Quote(_folder.FullPath)}" : "fix the cause, then start again with --overwrite",
                final: false);
        }
        catch (Exception inner) when (inner is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: summary.json could not be written either: {inner.Message}");
            return code;
        }
    }

    private TrainingResult Fit(Trainer trainer)
    {
        var ct = _signals.Token;
        if (_a.Quiet) return trainer.Fit(_train, _validation, null, ct);
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
            return trainer.Fit(_train, _validation, new SyncProgress(p => Console.WriteLine(Line(p))), ct);
        TrainingResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask("training");
                result = trainer.Fit(_train, _validation, new SyncProgress(p =>
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

    private static long Parameters(IModel m) => m.NamedParameters().Sum(p => p.Tensor.Shape.Aggregate(1L, (a, b) => a * b));

    private static string Fmt(double? v) => v is not { } x ? "-" : double.IsFinite(x) ? x.ToString("F4", CultureInfo.InvariantCulture) : x.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string s) => s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || "/._-=:,+@".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";

    private void Say(string s)
    {
        if (!_a.Quiet) Console.WriteLine(s);
    }

    private static void Note(string s) => Console.Error.WriteLine("note: " + s);

    public void Dispose()
    {
        _trainer?.Dispose();
        _model?.Dispose();
        _folder?.Dispose();
        _signals.Dispose();
    }

    /// <summary>Calls back on the training thread (System.Progress would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
