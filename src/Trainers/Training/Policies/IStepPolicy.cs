namespace MLLrSched.Training.Policies;

/// <summary>
/// One piece of what happens around the optimizer step — clipping, the non-finite guard, the lr schedule, EMA, SWA,
/// early stopping, progress, checkpoints, or a policy of your own — in the spirit of optax's <c>chain</c>: the trainer
/// calls every policy's hooks in the chain's order (<see cref="TrainerPolicies.Build"/> writes that order in one
/// place), and each saves its own section of the checkpoint.
/// </summary>
/// <remarks>
/// Derive from <see cref="StepPolicy"/> and override only the hooks you need. A policy runs on any engine: it sees the
/// model and tensors through the seam (<see cref="Backend.IModel"/>, <see cref="Backend.ITensor"/>).
/// </remarks>
public interface IStepPolicy
{
    /// <summary>The policy's name: its section in checkpoints, and how messages name it. Unique within a chain.</summary>
    string Name { get; }

    /// <summary>When <see cref="Trainer.Fit"/> starts, after the data is bound and before the first step (also after a
    /// resume): check what the policy needs of the run (e.g. validation data) and refuse with a clear message.</summary>
    void OnFitStart(TrainingRun run);

    /// <summary>After the accumulated backward pass, before the optimizer step: may change the gradients (clipping),
    /// and may skip the step or stop training.</summary>
    StepVerdict AfterBackward(TrainingRun run, StepInfo step);

    /// <summary>After the optimizer step (the step count already counts it).</summary>
    void AfterStep(TrainingRun run, StepInfo step);

    /// <summary>At the end of an epoch, after validation: may ask training to stop after this epoch.</summary>
    EpochVerdict AtEpochEnd(TrainingRun run, EpochInfo epoch);

    /// <summary>When the fit ends, for any reason but an exception (completed, stopped early, non-finite, cancelled);
    /// <paramref name="end"/> says which, and collects results (restored epoch, SWA metrics).</summary>
    void OnFitEnd(TrainingRun run, FitEnd end);

    /// <summary>The policy's state for a checkpoint, or null when it keeps none.</summary>
    StateSection? SaveState();

    /// <summary>Restores a state written by <see cref="SaveState"/> (before <see cref="OnFitStart"/> of the resumed fit).</summary>
    void LoadState(StateSection state);
}

/// <summary>A policy that does nothing until a hook is overridden.</summary>
public abstract class StepPolicy : IStepPolicy
{
    /// <inheritdoc />
    public abstract string Name { get; }
    /// <inheritdoc />
    public virtual void OnFitStart(TrainingRun run) { }
    /// <inheritdoc />
    public virtual StepVerdict AfterBackward(TrainingRun run, StepInfo step) => StepVerdict.Continue;
    /// <inheritdoc />
    public virtual void AfterStep(TrainingRun run, StepInfo step) { }
    /// <inheritdoc />
    public virtual EpochVerdict AtEpochEnd(TrainingRun run, EpochInfo epoch) => EpochVerdict.Continue;
    /// <inheritdoc />
    public virtual void OnFitEnd(TrainingRun run, FitEnd end) { }
    /// <inheritdoc />
    public virtual StateSection? SaveState() => null;
    /// <inheritdoc />
    public virtual void LoadState(StateSection state) { }
}

/// <summary>What a policy decides after the backward pass.</summary>
/// <param name="Action">Go on, skip this step, or stop training.</param>
/// <param name="Reason">Why (for skips and stops).</param>
public readonly record struct StepVerdict(StepAction Action, string? Reason = null)
{
    /// <summary>Go on to the next policy and the optimizer step.</summary>
    public static readonly StepVerdict Continue = new(StepAction.Continue);
    /// <summary>Drop this step's gradients and go on with the next step.</summary>
    public static StepVerdict Skip(string reason) => new(StepAction.Skip, reason);
    /// <summary>End training before this step; the weights stay as they were.</summary>
    public static StepVerdict Stop(string reason) => new(StepAction.Stop, reason);
}

/// <summary>The possible step decisions.</summary>
public enum StepAction
{
    /// <summary>Go on.</summary>
    Continue,
    /// <summary>Skip this optimizer step.</summary>
    Skip,
    /// <summary>Stop training.</summary>
    Stop,
}

/// <summary>What a policy decides at an epoch's end.</summary>
/// <param name="StopAfterThisEpoch">True to end training once this epoch's end hooks have run.</param>
/// <param name="Reason">Why training stops.</param>
/// <param name="Kind">How the result reports it.</param>
public readonly record struct EpochVerdict(bool StopAfterThisEpoch, string? Reason = null, StopReason Kind = StopReason.Completed)
{
    /// <summary>Go on training.</summary>
    public static readonly EpochVerdict Continue = new(false);
    /// <summary>End training after this epoch.</summary>
    public static EpochVerdict Stop(string reason, StopReason kind) => new(true, reason, kind);
}

/// <summary>A policy's checkpoint section: names to values. Values may be null, bool, long, double, string, double[],
/// tensors (<see cref="Backend.ITensor"/>), named tensors (<see cref="Backend.NamedTensor"/>[]) and nested sections.</summary>
public sealed class StateSection : Dictionary<string, object?>
{
    /// <summary>An empty section.</summary>
    public StateSection() : base(StringComparer.Ordinal) { }

    /// <summary>The value of <paramref name="key"/> as <typeparamref name="T"/>.</summary>
    /// <exception cref="KeyNotFoundException">The key is missing.</exception>
    /// <exception cref="InvalidCastException">It holds another type.</exception>
    public T Get<T>(string key) => TryGetValue(key, out var v)
        ? v is T t ? t : v is null && default(T) is null ? default! : throw new InvalidCastException($"state entry '{key}' holds {v?.GetType().Name ?? "null"}, not {typeof(T).Name}")
        : throw new KeyNotFoundException($"state entry '{key}' is missing");
}
