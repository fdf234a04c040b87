namespace MLLrSched.Training.Policies;

/// <summary>
/// When the checkpoint (<see cref="CheckpointOptions.Path"/>) is written: every
/// <see cref="CheckpointOptions.EveryNSteps"/> optimizer steps, at every epoch's end, and when the fit ends (completed,
/// stopped, or interrupted). Last in the chain, so the file holds every other policy's state as of that moment.
/// </summary>
public sealed class CheckpointCadence(CheckpointOptions options) : StepPolicy
{
    /// <inheritdoc />
    public override string Name => "checkpoint";

    /// <inheritdoc />
    public override void AfterStep(TrainingRun run, StepInfo step)
    {
        // An epoch's last step is saved at the epoch's end, after validation, instead.
        if (options.EveryNSteps > 0 && run.Step % options.EveryNSteps == 0 && !run.EpochDone) run.SaveCheckpoint();
    }

    /// <inheritdoc />
    public override EpochVerdict AtEpochEnd(TrainingRun run, EpochInfo epoch)
    {
        run.SaveCheckpoint();
        return EpochVerdict.Continue;
    }

    /// <inheritdoc />
    public override void OnFitEnd(TrainingRun run, FitEnd end) => run.SaveCheckpoint();
}
