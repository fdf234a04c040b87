using MLLrSched.Training.Policies;

namespace MLLrSched.Cli.Train;

/// <summary>
/// The CLI's own policy in the trainer's chain. At the start of the fit — after the trainer's own checks (schedule
/// horizon, validation data for monitors), before anything is written — it claims the run folder, so a run the
/// trainer refuses leaves the folder untouched. In every checkpoint it records the run config (section "run"), so a
/// resume can compare settings key by key and can run without --config.
/// </summary>
internal sealed class RunRecordPolicy(string record, Action onFitStart) : StepPolicy
{
    /// <summary>The checkpoint section's name.</summary>
    public const string SectionName = "run";
    /// <summary>The key of the config record in the section.</summary>
    public const string ConfigKey = "config";

    /// <inheritdoc />
    public override string Name => SectionName;

    /// <inheritdoc />
    public override void OnFitStart(TrainingRun run) => onFitStart();

    /// <inheritdoc />
    public override StateSection SaveState() => new() { [ConfigKey] = record };

    /// <inheritdoc />
    public override void LoadState(StateSection state) { }
}
