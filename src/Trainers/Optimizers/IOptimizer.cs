namespace MLLrSched.Optimizers;

/// <summary>
/// An optimizer as the trainer, schedules, clipping, accumulation and EMA see it. The built-in optimizers
/// implement it; so can a user's own (see docs/optimizers.md, "Writing your own").
/// </summary>
public interface IOptimizer
{
    /// <summary>The parameter groups with their current hyperparameters. Schedules write into them.</summary>
    IReadOnlyList<ParamGroup> ParamGroups { get; }

    /// <summary>How many times <see cref="Step()"/> has run (the optimizer step count t).</summary>
    long StepCount { get; }

    /// <summary>Applies one update from the parameters' accumulated gradients.</summary>
    void Step();

    /// <summary>
    /// Applies one update for optimizers that re-evaluate the loss (LBFGS). <paramref name="closure"/>
    /// zeroes the gradients, computes the loss, backpropagates, and returns the loss. Returns the first loss.
    /// Optimizers that do not need it call the closure once and then step.
    /// </summary>
    double Step(Func<double> closure);

    /// <summary>Clears the gradients: to None when <paramref name="setToNone"/> (PyTorch's default), else to zeros.</summary>
    void ZeroGrad(bool setToNone = true);
}
