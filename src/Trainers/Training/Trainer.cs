using MLLrSched.Backend;
using MLLrSched.Data;
using MLLrSched.Optimizers;
using MLLrSched.Schedules;
using MLLrSched.Training.Policies;

namespace MLLrSched.Training;

/// <summary>
/// The training loop: draws accumulation windows, runs the policy chain around each optimizer step (clipping, the
/// non-finite guard, the schedule, EMA, SWA, early stopping, progress, checkpoints — see
/// <see cref="TrainerPolicies.Build"/> for the order), validates after each epoch, and resumes exactly from a
/// checkpoint. It sees the model only through the engine seam (<see cref="IModel"/>, <see cref="ITrainingTask"/>), so it
/// runs unchanged on every engine.
/// </summary>
/// <example>
/// <code>
/// var engine = EngineRegistry.Load();   // TorchSharp or the native engine, whichever the application references
/// using var model = ModelFactory.Mlp(new MlpOptions { InputSize = 784, OutputSize = 10 }, engine.Backend);
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
    private readonly IOptimizer _optimizer;
    private readonly bool _ownsOptimizer;
    private readonly IReadOnlyList<IStepPolicy> _policies;
    private readonly ProgressReporter _reporter;
    private readonly AccumulationWindow _window;
    private readonly Dictionary<int, Batch> _evaluationSpares = new();
    private DataLoader? _loader;
    private InMemoryDataset? _boundTrain;
    private DataPosition? _resumePosition;
    private long _step, _skipped;
    private double _epochLoss, _epochNorm;
    private TimeSpan _elapsedBefore;
    private bool _fresh = true;

    /// <summary>
    /// Sets up training. Every option — the optimizer and schedule specs included — is checked here, before any data
    /// is read. The optimizer comes from <paramref name="optimizer"/>, else from <see cref="TrainerOptions.Optimizer"/>
    /// over the model's named parameters; <paramref name="policies"/> join the chain before progress and checkpoints.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid (named in the message).</exception>
    public Trainer(IModel model, ITrainingTask task, TrainerOptions? options = null, IOptimizer? optimizer = null,
        Scheduler? scheduler = null, IEnumerable<IStepPolicy>? policies = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _task = task ?? throw new ArgumentNullException(nameof(task));
        _o = options ?? new TrainerOptions();
        _o.Validate();
        _b = model.Backend;
        Device = _b.ResolveDevice(_o.Device, _o.FallbackToCpu);
        if (Device != _o.Device && !(Device == Device.Cpu && _o.Device == Device.Cpu))
            Warning = $"Device '{_o.Device}' is not available; training on '{Device}' instead (fallback_to_cpu).";
        if (_o.Threads is { } threads) _b.NumThreads = threads;
        model.MoveTo(Device);
        _ownsOptimizer = optimizer == null;
        _optimizer = optimizer ?? OptimizerFactory.Create(_o.Optimizer?.GetRawText() ?? TrainerOptions.DefaultOptimizer, model.NamedParameters());
        _policies = TrainerPolicies.Build(model, _o, scheduler, policies);
        _reporter = _policies.OfType<ProgressReporter>().Single();
        _window = new AccumulationWindow(model, task, Device, _o.GradientAccumulationSteps);
    }

    /// <summary>The optimizer.</summary>
    public IOptimizer Optimizer => _optimizer;
    /// <summary>The policies, in the order they run.</summary>
    public IReadOnlyList<IStepPolicy> Policies => _policies;
    /// <summary>The LR scheduler (null for a constant lr; built at the first <see cref="Fit"/> from the spec).</summary>
    public Scheduler? Scheduler => Policy<LrSchedule>()?.Scheduler;
    /// <summary>The EMA of the weights, or null.</summary>
    public ModelEma? Ema => Policy<EmaPolicy>()?.Ema;
    /// <summary>The SWA average, or null (created when SWA starts).</summary>
    public SwaAverager? Swa => Policy<SwaPolicy>()?.Average;
    /// <summary>Optimizer steps taken.</summary>
    public long StepCount => _step;
    /// <summary>The device in use (after fallback).</summary>
    public Device Device { get; }
    /// <summary>A warning for the user (e.g. the CPU fallback), or null.</summary>
    public string? Warning { get; }
    /// <summary>The options.</summary>
    public TrainerOptions Options => _o;

    /// <summary>The chain's policy of type <typeparamref name="T"/>, or null.</summary>
    public T? Policy<T>() where T : class, IStepPolicy => _policies.OfType<T>().FirstOrDefault();

    /// <summary>
    /// Trains on <paramref name="train"/> (validating on <paramref name="validation"/> after each epoch when given) until
    /// the epochs or max_steps are done, a policy stops it, or <paramref name="cancellationToken"/> fires. After
    /// <see cref="LoadCheckpoint"/> it continues exactly where the checkpoint left off.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the model or task, or a policy needs what the run lacks
    /// (e.g. validation data); nothing has been trained then.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the checkpoint (when configured) was written first.</exception>
    /// <exception cref="NonFiniteGradientException">A non-finite value under <see cref="NonFinitePolicy.Raise"/>.</exception>
    public TrainingResult Fit(InMemoryDataset train, InMemoryDataset? validation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        _task.Validate(_model, train, Device);
        if (validation != null) _task.Validate(_model, validation, Device);
        var loader = Bind(train);
        if (_fresh) _b.ManualSeed(_o.Seed);
        _fresh = false;
        var run = new TrainingRun(_model, _optimizer, _o, Device, loader, train, validation, Length(loader),
            (data, _) => Evaluate(data), () => SaveCheckpointIfConfigured()) { Step = _step, SkippedSteps = _skipped, ElapsedBefore = _elapsedBefore };
        _reporter.Progress = progress;
        _run = run;
        FitEnd end;
        EvaluationResult? lastVal, lastEmaVal;
        try
        {
            foreach (var p in _policies) p.OnFitStart(run);
            (end, lastVal, lastEmaVal) = Train(run, cancellationToken);
            foreach (var p in _policies) p.OnFitEnd(run, end);
        }
        finally
        {
            _elapsedBefore = run.Elapsed;
            _run = null;
        }
        cancellationToken.ThrowIfCancellationRequested();
        return new TrainingResult
        {
            StopReason = end.Reason, Message = end.Message, Steps = _step, Epochs = loader.Position.Epoch, SkippedSteps = _skipped,
            Validation = lastVal, EmaValidation = lastEmaVal, SwaValidation = end.SwaValidation, RestoredBestEpoch = end.RestoredBestEpoch,
            History = _reporter.History.ToArray(), Elapsed = run.Clock.Elapsed,
        };
    }

    /// <summary>The loop: steps until an epoch ends, then the epoch's end, until the run is over.</summary>
    private (FitEnd, EvaluationResult?, EvaluationResult?) Train(TrainingRun run, CancellationToken cancel)
    {
        var loader = run.Loader;
        EvaluationResult? val = null, emaVal = null;
        while (loader.Position.Epoch < _o.Epochs || (_o.MaxSteps != null && _o.Epochs < 1))
        {
            _model.SetTraining(true);
            while (!loader.EpochDone)
            {
                if (cancel.IsCancellationRequested) return (End(StopReason.Cancelled, "Cancelled."), val, emaVal);
                var verdict = OptimizerStep(run);
                if (verdict.Action == StepAction.Stop) return (End(StopReason.NonFinite, verdict.Reason!), val, emaVal);
                if (_o.MaxSteps is { } max && _step >= max && !loader.EpochDone) return (End(StopReason.Completed, $"Reached max_steps = {max}."), val, emaVal);
            }
            var (stop, v, ev) = EndEpoch(run);
            (val, emaVal) = (v ?? val, ev ?? emaVal);
            if (stop.StopAfterThisEpoch) return (End(stop.Kind, stop.Reason!), val, emaVal);
            if (_o.MaxSteps is { } max2 && _step >= max2) return (End(StopReason.Completed, $"Reached max_steps = {max2}."), val, emaVal);
        }
        return (End(StopReason.Completed, $"Completed {loader.Position.Epoch} epochs ({_step} optimizer steps)."), val, emaVal);
    }

    private static FitEnd End(StopReason reason, string message) => new() { Reason = reason, Message = message };

    /// <summary>One optimizer step: the window's forward and backward, the policies around the optimizer, the step.</summary>
    private StepVerdict OptimizerStep(TrainingRun run)
    {
        var parameters = _model.NamedParameters();
        var step = new StepInfo();
        _window.Fill(run.Loader);
        if (_optimizer.RequiresClosure)
        {
            // LBFGS evaluates the loss several times within a step; the gradient policies run on every evaluation, and a
            // stop can only be reported once the step is done.
            var verdict = StepVerdict.Continue;
            _optimizer.Step(() =>
            {
                var loss = _window.ForwardBackward(parameters, step);
                foreach (var p in _policies)
                    if (p.AfterBackward(run, step) is { Action: not StepAction.Continue } v && verdict.Action == StepAction.Continue) verdict = v;
                return loss;
            });
            if (verdict.Action == StepAction.Stop) return verdict;
        }
        else
        {
            _window.ForwardBackward(parameters, step);
            foreach (var p in _policies)
            {
                var verdict = p.AfterBackward(run, step);
                if (verdict.Action == StepAction.Continue) continue;
                _optimizer.ZeroGrad(setToNone: true);
                if (verdict.Action == StepAction.Stop) return verdict;
                run.SkippedSteps = ++_skipped;
                return verdict;
            }
            _optimizer.Step();
        }
        run.Step = ++_step;
        run.StepsThisProcess++;
        _epochLoss += step.LossSum;
        _epochNorm += step.Normalizer;
        foreach (var p in _policies) p.AfterStep(run, step);
        return StepVerdict.Continue;
    }

    /// <summary>An epoch's end: validation (of the model, and of the EMA weights), then every policy's epoch-end hook.</summary>
    private (EpochVerdict, EvaluationResult?, EvaluationResult?) EndEpoch(TrainingRun run)
    {
        var info = new EpochInfo
        {
            Epoch = run.Loader.Position.Epoch,
            TrainLoss = _epochNorm > 0 ? _epochLoss / _epochNorm : double.NaN,
            Validation = run.Validation != null && _o.EvaluateEveryEpoch ? Evaluate(run.Validation) : null,
            EmaValidation = run.Validation != null && _o.EvaluateEveryEpoch && Policy<EmaPolicy>() is { } ema ? run.Evaluate(run.Validation, ema) : null,
        };
        _epochLoss = _epochNorm = 0;
        run.Loader.NextEpoch();
        var stop = EpochVerdict.Continue;
        foreach (var p in _policies)
            if (p.AtEpochEnd(run, info) is { StopAfterThisEpoch: true } v && !stop.StopAfterThisEpoch) stop = v;
        return (stop, info.Validation, info.EmaValidation);
    }

    /// <summary>Evaluates the model (or its EMA weights) on <paramref name="data"/> in eval mode without gradients.</summary>
    public EvaluationResult Evaluate(InMemoryDataset data, bool useEma = false)
    {
        if (useEma && Policy<EmaPolicy>() is null) throw new InvalidOperationException("useEma: this trainer has no EMA (set TrainerOptions.Ema).");
        var wasTraining = _model.IsTraining;
        _model.SetTraining(false);
        try
        {
            using var swap = useEma ? Policy<EmaPolicy>()!.SwapInto(_model) : null;
            using var noGrad = _b.NoGrad();
            var batches = DataLoader.Sequential(data, _o.EvalBatchSize, _task.RetainsBatches ? null : _evaluationSpares);
            return _task.Evaluate(_model, batches, Device);
        }
        finally { _model.SetTraining(wasTraining); }
    }

    private DataLoader Bind(InMemoryDataset train)
    {
        if (_boundTrain == train && _loader != null) return _loader;
        var position = _loader?.Position ?? _resumePosition ?? default;
        _loader = new DataLoader(train, _o.BatchSize, _o.Shuffle, _o.Seed, _o.DropLast) { Position = position };
        _boundTrain = train;
        return _loader;
    }

    private RunLength Length(DataLoader loader)
    {
        var perEpoch = ((long)loader.BatchesPerEpoch + _o.GradientAccumulationSteps - 1) / _o.GradientAccumulationSteps;   // long: no overflow near int.MaxValue
        var byEpochs = perEpoch * (long)Math.Max(_o.Epochs, 0);
        var total = _o.MaxSteps is { } max ? (byEpochs > 0 ? Math.Min(max, byEpochs) : max) : byEpochs;
        return new RunLength(total, perEpoch, _o.Epochs);
    }

    /// <summary>Optimizer steps per epoch for the bound data (accumulation included).</summary>
    public long StepsPerEpoch => _loader == null ? throw new InvalidOperationException("No data bound yet.") : Length(_loader).StepsPerEpoch;

    /// <summary>Frees what the trainer created (its optimizer's state, EMA/SWA copies, the early-stopping snapshot).</summary>
    public void Dispose()
    {
        if (_ownsOptimizer && _optimizer is IDisposable d) d.Dispose();
        foreach (var p in _policies) (p as IDisposable)?.Dispose();
    }
}
