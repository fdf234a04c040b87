namespace MLLrSched.Schedules;

/// <summary>What one unit of schedule time is.</summary>
public enum StepInterval
{
    /// <summary>t counts optimizer steps (PyTorch's per-batch stepping; OneCycleLR, CyclicLR and the Hugging Face
    /// schedules are meant for this). JSON <c>"step"</c>.</summary>
    Step,

    /// <summary>t counts epochs (PyTorch's per-epoch stepping; StepLR, ReduceLROnPlateau on a validation metric).
    /// JSON <c>"epoch"</c>.</summary>
    Epoch,
}

/// <summary>How a <see cref="Scheduler"/> steps its schedules.</summary>
public sealed class SchedulerOptions
{
    /// <summary>
    /// What advances t when the training loop reports progress through <see cref="Scheduler.OnOptimizerStep"/> and
    /// <see cref="Scheduler.OnEpochEnd"/>. Default <see cref="StepInterval.Step"/>. Calling
    /// <see cref="Scheduler.Step()"/> directly always advances t by one, whatever the interval.
    /// </summary>
    public StepInterval Interval { get; init; } = StepInterval.Step;

    /// <summary>
    /// With <see cref="StepInterval.Epoch"/>: when set, every optimizer step advances t by 1/StepsPerEpoch
    /// (fractional epochs, as PyTorch's <c>CosineAnnealingWarmRestarts.step(epoch + i / iters)</c>), so the schedule
    /// moves within an epoch. Null (default): t moves only at epoch ends.
    /// </summary>
    public int? StepsPerEpoch { get; init; }

    /// <summary>
    /// PyTorch's <c>last_epoch</c>: resume a schedule whose groups already hold the values for t = LastEpoch. The
    /// scheduler starts at t = LastEpoch + 1 (as PyTorch's constructor steps once) and requires every group to have
    /// <c>initial_lr</c> (or <c>initial_&lt;field&gt;</c>). Null or -1: start fresh at t = 0. Prefer
    /// <see cref="Scheduler.LoadState"/>, which also restores stateful schedules.
    /// </summary>
    public long? LastEpoch { get; init; }

    /// <summary>
    /// When true, stepping the scheduler before the optimizer has stepped throws
    /// <see cref="InvalidOperationException"/>. When false (default, PyTorch's behaviour), it calls
    /// <see cref="Warn"/> once.
    /// </summary>
    public bool StrictStepOrder { get; init; }

    /// <summary>Receives warnings (the step-order warning). Default: writes them to standard error. Null: silent.</summary>
    public Action<string>? Warn { get; init; } = message => Console.Error.WriteLine("warning: " + message);
}
