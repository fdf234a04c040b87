namespace MLLrSched.Training.Policies;

/// <summary>
/// Refuses a step whose loss or gradient norm is NaN or infinite: stops training cleanly, skips the step, or throws
/// <see cref="NonFiniteGradientException"/> (<see cref="TrainerOptions.NonFinite"/>). In every case the weights are those
/// before the step. Runs after the clipping policies, whose norm it reads.
/// </summary>
public sealed class NonFiniteGuard(NonFinitePolicy policy) : StepPolicy
{
    /// <inheritdoc />
    public override string Name => "nonfinite";

    /// <inheritdoc />
    public override StepVerdict AfterBackward(TrainingRun run, StepInfo step)
    {
        string? what = null;
        for (var i = 0; i < step.MicroBatchLosses.Count && what == null; i++)
            if (!double.IsFinite(step.MicroBatchLosses[i]))
                what = $"the loss of micro-batch {i + 1}/{step.MicroBatchLosses.Count} is {step.MicroBatchLosses[i]}";
        if (what == null && step.HasGradNorm && !double.IsFinite(step.GradNorm)) what = $"the gradient norm is {step.GradNorm}";
        if (what == null) return StepVerdict.Continue;

        var (batch, of) = run.BatchPosition;
        var where = $"optimizer step {run.Step + 1} (epoch {run.Epoch}, batch {batch} of {of})";
        return policy switch
        {
            NonFinitePolicy.Skip => StepVerdict.Skip($"Non-finite value at {where}: {what}; step skipped."),
            NonFinitePolicy.Raise => throw new NonFiniteGradientException($"Non-finite value at {where}: {what}. The weights are those before this step."),
            _ => StepVerdict.Stop(
                $"Stopped at {where}: {what}. The weights are those before this step. Lower the learning rate, add gradient " +
                "clipping, or set \"nonfinite\": \"skip\" to skip such steps."),
        };
    }
}
