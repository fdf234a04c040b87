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
    /// <summary>The cancellation token fired (<see cref="Trainer.Fit"/> then throws <see cref="OperationCanceledException"/>).</summary>
    Cancelled,
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
