namespace MLLrSched.Training;

/// <summary>Why a report was made.</summary>
public enum ProgressKind
{
    /// <summary>Every <c>LogEveryNSteps</c> optimizer steps.</summary>
    Step,
    /// <summary>At the end of an epoch, with validation metrics.</summary>
    Epoch,
}

/// <summary>One progress report (IProgress-style): also one row of the metrics file.</summary>
public sealed record TrainingProgress
{
    /// <summary>Step or epoch report.</summary>
    public ProgressKind Kind { get; init; }
    /// <summary>Optimizer steps taken.</summary>
    public long Step { get; init; }
    /// <summary>Zero-based epoch.</summary>
    public long Epoch { get; init; }
    /// <summary>Mean training loss since the previous report (window-normalised).</summary>
    public double Loss { get; init; }
    /// <summary>Learning rate of the first parameter group after the last step.</summary>
    public double Lr { get; init; }
    /// <summary>Total gradient norm before clipping at the last step (NaN when not computed).</summary>
    public double GradNorm { get; init; } = double.NaN;
    /// <summary>Training samples per second since the previous report.</summary>
    public double SamplesPerSecond { get; init; }
    /// <summary>Estimated time to the end of training.</summary>
    public TimeSpan? Eta { get; init; }
    /// <summary>Time since training started.</summary>
    public TimeSpan Elapsed { get; init; }
    /// <summary>Validation loss (epoch reports with a validation set).</summary>
    public double? ValLoss { get; init; }
    /// <summary>Validation accuracy (classification).</summary>
    public double? ValAccuracy { get; init; }
    /// <summary>Validation loss of the EMA weights.</summary>
    public double? EmaValLoss { get; init; }
    /// <summary>Validation accuracy of the EMA weights.</summary>
    public double? EmaValAccuracy { get; init; }
    /// <summary>Optimizer steps skipped so far for non-finite values.</summary>
    public long SkippedSteps { get; init; }
    /// <summary>Total optimizer steps planned (for ETA and progress bars).</summary>
    public long TotalSteps { get; init; }
}
