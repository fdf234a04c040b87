namespace MLLrSched.Training.Policies;

/// <summary>
/// Progress reports: every <see cref="TrainerOptions.LogEveryNSteps"/> optimizer steps and at each epoch's end, to the
/// caller's <see cref="IProgress{T}"/>, the result's history and the metrics file. Its checkpoint section holds the
/// interval in progress and how many rows the metrics file had, so a resumed run reports exactly the rows an
/// uninterrupted one would, and its metrics file is cut back to the checkpoint before new rows are added.
/// </summary>
public sealed class ProgressReporter(IProgress<TrainingProgress>? progress) : StepPolicy, IDisposable
{
    private readonly List<TrainingProgress> _history = [];
    private MetricsLog? _log;
    private double _loss, _norm;
    private long _samples, _rows;
    private double _lastGradNorm = double.NaN;
    private long? _restoredRows;
    private long _intervalStart = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <inheritdoc />
    public override string Name => "progress";

    /// <summary>The reports of this fit, in order.</summary>
    public IReadOnlyList<TrainingProgress> History => _history;

    /// <summary>Where the caller's reports go (replaced per fit).</summary>
    internal IProgress<TrainingProgress>? Progress { get; set; } = progress;

    /// <inheritdoc />
    public override void OnFitStart(TrainingRun run)
    {
        _history.Clear();
        if (run.Options.MetricsFile is { } path && _log == null)
            _log = MetricsLog.Open(path, keepRows: _restoredRows ?? 0);
        _intervalStart = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <inheritdoc />
    public override void AfterStep(TrainingRun run, StepInfo step)
    {
        _loss += step.LossSum;
        _norm += step.Normalizer;
        _samples += step.Samples;
        _lastGradNorm = step.GradNorm;
        if (run.Step % run.Options.LogEveryNSteps != 0 && !run.EpochDone) return;
        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(_intervalStart).TotalSeconds;
        Report(run, new TrainingProgress
        {
            Kind = ProgressKind.Step,
            Step = run.Step,
            Epoch = run.Epoch,
            Loss = _norm > 0 ? _loss / _norm : double.NaN,
            Lr = run.Lr,
            GradNorm = _lastGradNorm,
            SamplesPerSecond = seconds > 0 ? _samples / seconds : 0,
            Eta = Eta(run),
            Elapsed = run.Elapsed,
            SkippedSteps = run.SkippedSteps,
            TotalSteps = run.Length.TotalSteps,
        });
        _loss = _norm = 0;
        _samples = 0;
        _intervalStart = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <inheritdoc />
    public override EpochVerdict AtEpochEnd(TrainingRun run, EpochInfo epoch)
    {
        Report(run, new TrainingProgress
        {
            Kind = ProgressKind.Epoch,
            Step = run.Step,
            Epoch = epoch.Epoch,
            Loss = epoch.TrainLoss,
            Lr = run.Lr,
            GradNorm = _lastGradNorm,
            Elapsed = run.Elapsed,
            ValLoss = epoch.Validation?.Loss,
            ValAccuracy = epoch.Validation?.Accuracy,
            EmaValLoss = epoch.EmaValidation?.Loss,
            EmaValAccuracy = epoch.EmaValidation?.Accuracy,
            SkippedSteps = run.SkippedSteps,
            TotalSteps = run.Length.TotalSteps,
            Eta = Eta(run),
        });
        // Epoch-end evaluation is not training time: the next interval's throughput starts after it.
        _intervalStart = System.Diagnostics.Stopwatch.GetTimestamp();
        return EpochVerdict.Continue;
    }

    private static TimeSpan? Eta(TrainingRun run) => run.StepsThisProcess > 0 && run.Length.TotalSteps > run.Step
        ? TimeSpan.FromSeconds(run.Clock.Elapsed.TotalSeconds / run.StepsThisProcess * (run.Length.TotalSteps - run.Step))
        : null;

    private void Report(TrainingRun run, TrainingProgress p)
    {
        _history.Add(p);
        if (_log != null)
        {
            _log.Write(p);
            _rows++;
        }
        Progress?.Report(p);
    }

    /// <inheritdoc />
    public override void OnFitEnd(TrainingRun run, FitEnd end)
    {
        _log?.Dispose();
        _log = null;
        _restoredRows = _rows;
    }

    /// <inheritdoc />
    public override StateSection SaveState() => new()
    {
        ["interval_loss"] = _loss, ["interval_normalizer"] = _norm, ["interval_samples"] = _samples,
        ["last_grad_norm"] = _lastGradNorm, ["metrics_rows"] = _rows,
    };

    /// <inheritdoc />
    public override void LoadState(StateSection state)
    {
        _loss = state.Get<double>("interval_loss");
        _norm = state.Get<double>("interval_normalizer");
        _samples = state.Get<long>("interval_samples");
        _lastGradNorm = state.Get<double>("last_grad_norm");
        _rows = state.Get<long>("metrics_rows");
        _restoredRows = _rows;
        _log?.Dispose();
        _log = null;
    }

    /// <inheritdoc />
    public void Dispose() => _log?.Dispose();
}
