using System.Text.Json;
using MLLrSched.Schedules;
using MLLrSched.Specs;

namespace MLLrSched.Training.Policies;

/// <summary>
/// Drives the learning-rate schedule: built from <see cref="TrainerOptions.Scheduler"/> when the fit starts (its
/// placeholders resolved to the run's length and checked), or a <see cref="Scheduler"/> given to the trainer; advanced
/// after every optimizer step or at every epoch end. It stands still while another policy owns the lr
/// (<see cref="TrainingRun.LrOwner"/>, set by SWA's SWALR).
/// </summary>
public sealed class LrSchedule : StepPolicy
{
    private readonly JsonElement? _spec;
    private string? _pendingState;

    /// <summary>A schedule from a spec (built at the first fit) or an existing scheduler.</summary>
    public LrSchedule(JsonElement? spec, Scheduler? scheduler = null)
    {
        _spec = spec;
        Scheduler = scheduler;
    }

    /// <inheritdoc />
    public override string Name => "scheduler";

    /// <summary>The scheduler (null before the first fit when built from a spec).</summary>
    public Scheduler? Scheduler { get; private set; }

    /// <inheritdoc />
    public override void OnFitStart(TrainingRun run)
    {
        var o = run.Options;
        if (Scheduler == null && _spec is { } spec)
        {
            var parsed = ScheduleSpecs.Parse(SchedulePlaceholders.Resolve(spec, run.Length));
            var interval = parsed.Interval ?? o.ScheduleInterval;
            Scheduler = new Scheduler(run.Optimizer, [parsed.ToBinding()], new SchedulerOptions
            {
                Interval = interval, LastEpoch = parsed.LastEpoch, StrictStepOrder = true, Warn = null,
            });
            CheckHorizon(parsed.Schedule, interval, run.Length);
        }
        if (Scheduler == null) return;
        if (Scheduler.UsesMetric)
        {
            if (Scheduler.Options.Interval == StepInterval.Step && o.ScheduleMonitor != Metric.TrainLoss)
                throw new SpecException(
                    $"The schedule steps on a metric every optimizer step, where only 'train_loss' exists. Set \"scheduler_interval\": \"epoch\" " +
                    $"(or \"interval\": \"epoch\" in the scheduler spec) to monitor '{Specs.Options.OptionBinder.JsonName(o.ScheduleMonitor)}', or \"scheduler_monitor\": \"train_loss\".",
                    "scheduler_monitor");
            if (o.ScheduleMonitor != Metric.TrainLoss && (run.Validation == null || !o.EvaluateEveryEpoch))
                throw new SpecException(
                    $"The schedule monitors '{Specs.Options.OptionBinder.JsonName(o.ScheduleMonitor)}', which needs validation data evaluated every epoch; " +
                    "give validation data (or \"scheduler_monitor\": \"train_loss\").", "scheduler_monitor");
        }
        if (_pendingState != null)
        {
            Scheduler.LoadState(SchedulerState.FromJson(_pendingState));
            _pendingState = null;
        }
    }

    // A schedule defined only up to a horizon (OneCycleLR's total_steps) cannot run past it: say so before training.
    private static void CheckHorizon(Schedule schedule, StepInterval interval, RunLength length)
    {
        if (schedule is not OneCycleLR one) return;
        var needed = interval == StepInterval.Step ? length.TotalSteps : length.Epochs;
        if (one.TotalSteps < needed)
            throw new SpecException(
                $"OneCycleLR's total_steps = {one.TotalSteps} is shorter than this run's {needed} {(interval == StepInterval.Step ? "optimizer steps" : "epochs")}; " +
                "set \"total_steps\": \"$total_steps\" (or a larger number).", "total_steps");
    }

    /// <inheritdoc />
    public override void AfterStep(TrainingRun run, StepInfo step)
    {
        if (Scheduler == null || run.LrOwner != null) return;
        Scheduler.OnOptimizerStep(Scheduler.UsesMetric && Scheduler.Options.Interval == StepInterval.Step ? step.Loss : null);
    }

    /// <inheritdoc />
    public override EpochVerdict AtEpochEnd(TrainingRun run, EpochInfo epoch)
    {
        if (Scheduler != null && run.LrOwner == null)
            Scheduler.OnEpochEnd(Scheduler.UsesMetric ? epoch.Value(run.Options.ScheduleMonitor) : null);
        return EpochVerdict.Continue;
    }

    /// <inheritdoc />
    public override StateSection? SaveState() => Scheduler == null ? null : new StateSection { ["state"] = Scheduler.SaveState().ToJson() };

    /// <inheritdoc />
    public override void LoadState(StateSection state)
    {
        var json = state.Get<string>("state");
        if (Scheduler != null) Scheduler.LoadState(SchedulerState.FromJson(json));
        else _pendingState = json;
    }
}
