using System.Globalization;
using MLLrSched.Training.Policies;

namespace MLLrSched.MLExtensions;

/// <summary>Training diverged: the loss exploded (or the network collapsed to one output for every row).</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);

/// <summary>
/// Ends a fit whose loss explodes, instead of returning a model that predicts one value for every row. The reference is
/// the loss of the first optimizer step (the untrained network); training stops with
/// <see cref="TrainingDivergedException"/> when a step's loss exceeds <see cref="StepFactor"/> times it, or an epoch's
/// mean training loss exceeds <see cref="EpochFactor"/> times it. (NaN and infinite losses are the trainer's non-finite
/// guard's, which ends the fit too.)
/// </summary>
internal sealed class DivergenceGuard(string trainer, string optimizer) : StepPolicy
{
    /// <summary>A step whose loss is this many times the first step's ends training.</summary>
    public const double StepFactor = 1e4;
    /// <summary>An epoch whose mean loss is this many times the first step's ends training.</summary>
    public const double EpochFactor = 1e3;

    private double _first = double.NaN;

    /// <inheritdoc />
    public override string Name => "divergence_guard";

    /// <inheritdoc />
    public override StepVerdict AfterBackward(TrainingRun run, StepInfo step)
    {
        if (!double.IsFinite(step.Loss)) return StepVerdict.Continue;
        if (double.IsNaN(_first)) { _first = step.Loss; return StepVerdict.Continue; }
        if (_first > 0 && step.Loss > StepFactor * _first)
            throw Diverged($"at optimizer step {run.Step + 1} (epoch {run.Epoch}) the loss is {G(step.Loss)}, more than {G(StepFactor)}× the first step's {G(_first)}");
        return StepVerdict.Continue;
    }

    /// <inheritdoc />
    public override EpochVerdict AtEpochEnd(TrainingRun run, EpochInfo epoch)
    {
        if (_first > 0 && epoch.TrainLoss > EpochFactor * _first)
            throw Diverged($"epoch {epoch.Epoch} ended with a mean training loss of {G(epoch.TrainLoss)}, more than {G(EpochFactor)}× the first step's {G(_first)}");
        return EpochVerdict.Continue;
    }

    private TrainingDivergedException Diverged(string what) => new(
        $"{trainer}: training diverged: {what} (optimizer {optimizer}). Lower the learning rate, add a warmup (Scheduler) or clip the " +
        "gradients (ClipGradNorm); check that the features are normalised (e.g. NormalizeMinMax) and regression labels are of moderate size.");

    private static string G(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
