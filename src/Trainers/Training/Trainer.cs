using System.Diagnostics;
using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Schedules;

namespace MLLrSched.Training;

/// <summary>Why training ended.</summary>
public enum StopReason
{
    /// <summary>All epochs (or max_steps) done.</summary>
    Completed,
    /// <summary>Early stopping ran out of patience.</summary>
    EarlyStopped,
    /// <summary>A NaN/inf loss or gradient under <see cref="NonFinitePolicy.Stop"/>.</summary>
    NonFinite,
}

/// <summary>What <see cref="Trainer.Fit"/> returns.</summary>
public sealed record TrainingResult
{
    /// <summary>Why training ended.</summary>
    public StopReason StopReason { get; init; }
    /// <summary>A sentence saying why (e.g. which step had a NaN loss).</summary>
    public string Message { get; init; } = "";
    /// <summary>Optimizer steps taken in total (resumed runs included).</summary>
    public long Steps { get; init; }
    /// <summary>Epochs completed.</summary>
    public long Epochs { get; init; }
    /// <summary>Steps skipped under <see cref="NonFinitePolicy.Skip"/>.</summary>
    public long SkippedSteps { get; init; }
    /// <summary>Last epoch's validation metrics (null without a validation set).</summary>
    public EvaluationResult? Validation { get; init; }
    /// <summary>Validation metrics of the EMA weights.</summary>
    public EvaluationResult? EmaValidation { get; init; }
    /// <summary>Validation metrics of the SWA weights (after BatchNorm recalibration where possible).</summary>
    public EvaluationResult? SwaValidation { get; init; }
    /// <summary>Epoch whose weights were restored by early stopping, or null.</summary>
    public long? RestoredBestEpoch { get; init; }
    /// <summary>Every progress report, in order.</summary>
    public IReadOnlyList<TrainingProgress> History { get; init; } = Array.Empty<TrainingProgress>();
    /// <summary>Wall time of this call.</summary>
    public TimeSpan Elapsed { get; init; }
}

/// <summary>
/// The training loop that applies the policies: gradient accumulation normalised by the real sample count of each
/// window, clipping once per optimizer step, the optimizer, the schedule (per step or per epoch), EMA and SWA,
/// non-finite handling, validation, early stopping, progress, metrics file and resume-exact checkpoints.
/// Works on any backend through <see cref="IModel"/> and <see cref="ITrainingTask"/>.
/// </summary>
/// <example>
/// <code>
/// Torch.ManualSeed(0);
/// using var model = ModelFactory.Mlp(new MlpOptions { InputSize = 784, OutputSize = 10 });
/// var options = new TrainerOptions
/// {
///     Optimizer = Json("""{"type": "AdamW", "lr": 0.002, "weight_decay": 0.05}"""),
///     Scheduler = Json("""{"type": "OneCycleLR", "max_lr": 0.002, "total_steps": "$total_steps"}"""),
///     GradientAccumulationSteps = 2, Clipping = new() { MaxNorm = 1.0 }, Ema = new() { Decay = 0.999 },
/// };
/// using var trainer = new Trainer(model, new ClassificationTask(10), options);
/// var result = trainer.Fit(FashionMnist.Load(), FashionMnist.Load(train: false));
/// </code>
/// </example>
public sealed partial class Trainer : IDisposable
{
    private readonly IModel _model;
    private readonly ITrainingTask _task;
    private readonly TrainerOptions _o;
    private readonly IBackend _b;
    private readonly Device _device;
    private readonly IOptimizer _optimizer;
    private readonly bool _ownsOptimizer;
    private Scheduler? _scheduler;
    private readonly bool _schedulerGiven;
    private ModelEma? _ema;
    private SwaAverager? _swa;
    private SwaLrAnnealer? _swaLr;
    private EarlyStopping? _early;
    private NamedTensor[]? _bestSnapshot;
    private DataLoader? _loader;
    private InMemoryDataset? _boundTrain;
    private long _step;
    private long _skipped;
    private bool _fresh = true;
    private string? _pendingSchedulerState;
    private readonly List<TrainingProgress> _history = new();

    /// <summary>Sets up training. The optimizer comes from <paramref name="optimizer"/>, else from
    /// <see cref="TrainerOptions.Optimizer"/> (default AdamW, lr 1e-3) over the model's named parameters.</summary>
    /// <exception cref="ArgumentException">An option is invalid (named in the message).</exception>
    public Trainer(IModel model, ITrainingTask task, TrainerOptions? options = null, IOptimizer? optimizer = null, Scheduler? scheduler = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _task = task ?? throw new ArgumentNullException(nameof(task));
        _o = options ?? new TrainerOptions();
        _o.Validate();
        _b = model.Backend;
        _device = _b.ResolveDevice(_o.Device, _o.FallbackToCpu);
        if (_o.Threads is { } threads && _b is MLLrSched.Torch.NativeBackend) MLLrSched.Torch.Torch.NumThreads = threads;
        if (model is MLLrSched.Torch.Modules.Module m) m.To(_device);
        if (optimizer != null) _optimizer = optimizer;
        else
        {
            _optimizer = _o.Optimizer is { } spec
                ? OptimizerFactory.Create(spec, model.NamedParameters())
                : OptimizerFactory.Create("""{"type": "AdamW", "lr": 0.001}""", model.NamedParameters());
            _ownsOptimizer = true;
        }
        _scheduler = scheduler;
        _schedulerGiven = scheduler != null;
        if (_o.Ema != null) _ema = new ModelEma(model, _o.Ema);
        if (_o.EarlyStopping != null) _early = new EarlyStopping(_o.EarlyStopping);
    }

    /// <summary>The optimizer.</summary>
    public IOptimizer Optimizer => _optimizer;
    /// <summary>The LR scheduler (null for a constant lr; created on the first <see cref="Fit"/> from the spec).</summary>
    public Scheduler? Scheduler => _scheduler;
    /// <summary>The EMA of the weights, or null.</summary>
    public ModelEma? Ema => _ema;
    /// <summary>The SWA average, or null (created when SWA starts).</summary>
    public SwaAverager? Swa => _swa;
    /// <summary>Optimizer steps taken.</summary>
    public long StepCount => _step;
    /// <summary>The device in use (after fallback).</summary>
    public Device Device => _device;
    /// <summary>The options.</summary>
    public TrainerOptions Options => _o;

    /// <summary>
    /// Trains on <paramref name="train"/> (validating on <paramref name="validation"/> after each epoch when given) until
    /// the epochs or max_steps are done, early stopping triggers, or a non-finite value stops it. After
    /// <see cref="LoadCheckpoint"/> it continues exactly where the checkpoint left off.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the model or task (the message says how).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired; a checkpoint is written first when a path is configured.</exception>
    /// <exception cref="NonFiniteGradientException">A non-finite value under <see cref="NonFinitePolicy.Raise"/>.</exception>
    public TrainingResult Fit(InMemoryDataset train, InMemoryDataset? validation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        _task.Validate(_model, train, _device);
        if (validation != null) _task.Validate(_model, validation, _device);
        BindData(train);
        var loader = _loader!;
        if (_fresh)
        {
            _b.ManualSeed(_o.Seed);
            _fresh = false;
        }
        EnsureScheduler(loader);
        using var log = _o.MetricsFile != null ? new MetricsLog(_o.MetricsFile) : null;

        var clock = Stopwatch.StartNew();
        var totalSteps = TotalSteps(loader);
        var window = new Window();
        EvaluationResult? lastVal = null, lastEmaVal = null;
        var stop = StopReason.Completed;
        var message = "";
        var startStep = _step;

        while (loader.Position.Epoch < _o.Epochs || (_o.MaxSteps != null && _o.Epochs < 1))
        {
            var epoch = loader.Position.Epoch;
            _model.SetTraining(true);
            while (!loader.EpochDone)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    if (_o.Checkpoint.Path is { } cp) SaveCheckpoint(cp);
                    cancellationToken.ThrowIfCancellationRequested();
                }
                var outcome = OptimizerStep(loader, window);
                if (outcome.Stop)
                {
                    stop = StopReason.NonFinite;
                    message = outcome.Message;
                    goto done;
                }
                if (_step % _o.LogEveryNSteps == 0 || loader.EpochDone)
                    Report(ProgressKind.Step, window, clock, totalSteps, startStep, progress, log, null, null);
                if (_o.Checkpoint.Path is { } path && _o.Checkpoint.EveryNSteps > 0 && _step % _o.Checkpoint.EveryNSteps == 0)
                    SaveCheckpoint(path);
                if (_o.MaxSteps is { } max && _step >= max)
                {
                    message = $"Reached max_steps = {max}.";
                    goto done;
                }
            }

            // ---- epoch end: validation, SWA, schedule, early stopping
            var trainLoss = window.EpochLoss();
            window.ResetEpoch();
            if (validation != null && _o.EvaluateEveryEpoch)
            {
                lastVal = Evaluate(validation);
                if (_ema != null) lastEmaVal = Evaluate(validation, useEma: true);
            }
            var swaActive = _o.Swa != null && epoch >= _o.Swa.StartEpoch;
            if (swaActive)
            {
                _swa ??= new SwaAverager(_model);
                _swa.Update(_model);
                if (_o.Swa!.SwaLr is { } swaLr)
                {
                    _swaLr ??= new SwaLrAnnealer(_optimizer, swaLr, _o.Swa.AnnealEpochs, _o.Swa.AnnealStrategy);
                    _swaLr.Step();
                }
            }
            if (_scheduler != null && !(swaActive && _o.Swa!.SwaLr != null))
                _scheduler.OnEpochEnd(_scheduler.UsesMetric ? Monitor(_o.ScheduleMonitor, trainLoss, lastVal, lastEmaVal) : null);

            loader.NextEpoch();
            var improved = false;
            if (_early != null)
            {
                var value = Monitor(_early.Options.Monitor, trainLoss, lastVal, lastEmaVal)
                    ?? throw new InvalidOperationException($"early_stopping monitors '{_early.Options.Monitor}', which needs a validation set (pass one to Fit).");
                improved = _early.Observe(value, epoch);
                if (improved && _early.Options.RestoreBestWeights) SnapshotBest();
            }
            Report(ProgressKind.Epoch, window, clock, totalSteps, startStep, progress, log, lastVal, lastEmaVal, epoch, trainLoss);
            if (_o.Checkpoint.Path is { } epochPath) SaveCheckpoint(epochPath);
            window.RestartClock();
            if (_early is { ShouldStop: true })
            {
                stop = StopReason.EarlyStopped;
                message = $"Early stopping: '{_early.Options.Monitor}' did not improve by more than {_early.Options.MinDelta} for {_early.Options.Patience} epochs (best {_early.Best:G6} at epoch {_early.BestEpoch}).";
                break;
            }
            if (_o.MaxSteps is { } max2 && _step >= max2) break;
        }

    done:
        long? restored = null;
        if (_early is { } es && es.Options.RestoreBestWeights && _bestSnapshot != null && stop != StopReason.NonFinite)
        {
            RestoreBest();
            restored = es.BestEpoch;
        }
        EvaluationResult? swaVal = null;
        if (_swa != null && validation != null)
        {
            using (_swa.SwapInto(_model))
            {
                if (_model is MLLrSched.Torch.Modules.Module sm) SwaUtilities.UpdateBatchNorm(sm, DataLoader.Sequential(train, _o.EvalBatchSize));
                swaVal = Evaluate(validation);
            }
        }
        if (_o.Checkpoint.Path is { } finalPath) SaveCheckpoint(finalPath);
        if (message.Length == 0) message = stop == StopReason.Completed ? $"Completed {loader.Position.Epoch} epochs ({_step} optimizer steps)." : message;
        return new TrainingResult
        {
            StopReason = stop,
            Message = message,
            Steps = _step,
            Epochs = loader.Position.Epoch,
            SkippedSteps = _skipped,
            Validation = lastVal,
            EmaValidation = lastEmaVal,
            SwaValidation = swaVal,
            RestoredBestEpoch = restored,
            History = _history.ToArray(),
            Elapsed = clock.Elapsed,
        };
    }

    /// <summary>Evaluates the model (or its EMA weights) on <paramref name="data"/> in eval mode without gradients.</summary>
    public EvaluationResult Evaluate(InMemoryDataset data, bool useEma = false)
    {
        if (useEma && _ema == null) throw new InvalidOperationException("useEma: this trainer has no EMA (set TrainerOptions.Ema).");
        var wasTraining = _model.IsTraining;
        _model.SetTraining(false);
        try
        {
            using var swap = useEma ? _ema!.SwapInto(_model) : null;
            using var noGrad = _b.NoGrad();
            var batches = DataLoader.Sequential(data, _o.EvalBatchSize, _task.RetainsBatches ? null : _evaluationSpares);
            return _task.Evaluate(_model, batches, _device);
        }
        finally { _model.SetTraining(wasTraining); }
    }

    private void BindData(InMemoryDataset train)
    {
        if (_boundTrain == train && _loader != null) return;
        var position = _loader?.Position ?? _resumePosition ?? default;
        _loader = new DataLoader(train, _o.BatchSize, _o.Shuffle, _o.Seed, _o.DropLast) { Position = position };
        _boundTrain = train;
    }

    private long TotalSteps(DataLoader loader)
    {
        var perEpoch = (loader.BatchesPerEpoch + _o.GradientAccumulationSteps - 1) / _o.GradientAccumulationSteps;
        var byEpochs = perEpoch * (long)Math.Max(_o.Epochs, 0);
        return _o.MaxSteps is { } max ? (byEpochs > 0 ? Math.Min(max, byEpochs) : max) : byEpochs;
    }

    /// <summary>Optimizer steps per epoch for the bound data (accumulation included).</summary>
    public long StepsPerEpoch => _loader == null ? throw new InvalidOperationException("No data bound yet.")
        : (_loader.BatchesPerEpoch + _o.GradientAccumulationSteps - 1) / _o.GradientAccumulationSteps;

    private void EnsureScheduler(DataLoader loader)
    {
        if (_scheduler == null && _o.Scheduler is { } spec)
        {
            var resolved = ResolvePlaceholders(spec, TotalSteps(loader), StepsPerEpoch, _o.Epochs);
            var parsed = ScheduleSpecs.Parse(resolved);
            var interval = parsed.Interval ?? (_o.ScheduleInterval == ScheduleInterval.Epoch ? StepInterval.Epoch : StepInterval.Step);
            if (parsed.Schedule.TryGet<IMetricSchedule>() != null && interval == StepInterval.Step && _o.ScheduleMonitor != "train_loss")
                throw new ArgumentException(
                    $"{parsed.Schedule.TypeName} steps on a metric; with per-step scheduling only 'train_loss' is available. " +
                    "Set \"scheduler_interval\": \"epoch\" (or \"interval\": \"epoch\" in the scheduler spec) to monitor val_loss / val_accuracy, or \"scheduler_monitor\": \"train_loss\".");
            _scheduler = new Scheduler(_optimizer, new[] { parsed.ToBinding() }, new SchedulerOptions
            {
                Interval = interval,
                LastEpoch = parsed.LastEpoch,
                StrictStepOrder = true,
                Warn = null,
            });
        }
        if (_pendingSchedulerState != null && _scheduler != null)
        {
            _scheduler.LoadState(SchedulerState.FromJson(_pendingSchedulerState));
            _pendingSchedulerState = null;
        }
    }

    /// <summary>
    /// Replaces the string placeholders <c>"$total_steps"</c>, <c>"$steps_per_epoch"</c> and <c>"$epochs"</c> in a schedule
    /// spec with the run's numbers, so a config need not hard-code them (OneCycleLR's total_steps, HF's
    /// num_training_steps...).
    /// </summary>
    public static JsonElement ResolvePlaceholders(JsonElement spec, long totalSteps, long stepsPerEpoch, long epochs)
    {
        var text = spec.GetRawText();
        if (!text.Contains("\"$", StringComparison.Ordinal)) return spec;
        text = text.Replace("\"$total_steps\"", totalSteps.ToString(System.Globalization.CultureInfo.InvariantCulture))
                   .Replace("\"$steps_per_epoch\"", stepsPerEpoch.ToString(System.Globalization.CultureInfo.InvariantCulture))
                   .Replace("\"$epochs\"", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    private static double? Monitor(string name, double trainLoss, EvaluationResult? val, EvaluationResult? emaVal) => name switch
    {
        "train_loss" => trainLoss,
        "val_loss" => val?.Loss,
        "val_accuracy" => val?.Accuracy,
        "ema_val_loss" => emaVal?.Loss,
        "ema_val_accuracy" => emaVal?.Accuracy,
        _ => throw new ArgumentException($"Unknown metric '{name}'. Valid: train_loss, val_loss, val_accuracy, ema_val_loss, ema_val_accuracy."),
    };

    private void SnapshotBest()
    {
        DisposeSnapshot();
        using var noGrad = _b.NoGrad();
        _bestSnapshot = _model.NamedParameters().Concat(_model.NamedBuffers())
            .Select(t => new NamedTensor(t.Name, TensorCopies.DetachedClone(t.Tensor))).ToArray();
    }

    private void RestoreBest()
    {
        using var noGrad = _b.NoGrad();
        var live = _model.NamedParameters().Concat(_model.NamedBuffers()).ToArray();
        for (var i = 0; i < live.Length; i++) live[i].Tensor.Copy_(_bestSnapshot![i].Tensor);
    }

    private void DisposeSnapshot()
    {
        if (_bestSnapshot == null) return;
        foreach (var t in _bestSnapshot) t.Tensor.Dispose();
        _bestSnapshot = null;
    }

    private void Report(ProgressKind kind, Window window, Stopwatch clock, long totalSteps, long startStep,
        IProgress<TrainingProgress>? progress, MetricsLog? log, EvaluationResult? val, EvaluationResult? emaVal,
        long? epoch = null, double? epochLoss = null)
    {
        var (loss, samples, seconds) = kind == ProgressKind.Step ? window.TakeInterval() : (epochLoss ?? double.NaN, 0L, 0.0);
        var doneSteps = _step - startStep;
        TimeSpan? eta = null;
        if (doneSteps > 0 && totalSteps > _step)
            eta = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / doneSteps * (totalSteps - _step));
        var p = new TrainingProgress
        {
            Kind = kind,
            Step = _step,
            Epoch = epoch ?? _loader!.Position.Epoch,
            Loss = loss,
            Lr = _optimizer.ParamGroups[0].TryGet("lr", out var lr) ? lr : double.NaN,
            GradNorm = window.LastGradNorm,
            SamplesPerSecond = seconds > 0 ? samples / seconds : 0,
            Eta = eta,
            Elapsed = clock.Elapsed,
            ValLoss = val?.Loss,
            ValAccuracy = val?.Accuracy,
            EmaValLoss = emaVal?.Loss,
            EmaValAccuracy = emaVal?.Accuracy,
            SkippedSteps = _skipped,
            TotalSteps = totalSteps,
        };
        _history.Add(p);
        log?.Write(p);
        progress?.Report(p);
    }

    /// <summary>Frees what the trainer created (its optimizer's state, EMA/SWA copies, the early-stopping snapshot).</summary>
    public void Dispose()
    {
        if (_ownsOptimizer && _optimizer is IDisposable d) d.Dispose();
        _ema?.Dispose();
        _swa?.Dispose();
        DisposeSnapshot();
    }
}
