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

    /// <summary>True for optimizers that must re-evaluate the loss themselves (LBFGS): the trainer then hands them its
    /// step as a closure instead of calling <see cref="Step()"/> after one evaluation.</summary>
    bool RequiresClosure => false;

    /// <summary>Clears the gradients: to None when <paramref name="setToNone"/> (PyTorch's default), else to zeros.</summary>
    void ZeroGrad(bool setToNone = true);

    /// <summary>
    /// The optimizer's state in PyTorch's <c>state_dict()</c> structure (per-parameter state and
    /// <c>param_groups</c>), as copies the caller owns. Optimizers that keep no state need not override it.
    /// </summary>
    /// <exception cref="NotSupportedException">The optimizer does not support saving its state.</exception>
    OptimizerState StateDict() =>
        throw new NotSupportedException($"{GetType().Name} does not implement StateDict(); derive from Optimizer to get it.");

    /// <summary>
    /// Restores a state from <see cref="StateDict"/> (PyTorch's <c>load_state_dict</c>): hyperparameters of every
    /// group and the per-parameter state, copied. Refuses a state whose group sizes or parameter shapes differ.
    /// </summary>
    /// <exception cref="ArgumentException">The state does not fit these parameters; the message names the parameter.</exception>
    /// <exception cref="NotSupportedException">The optimizer does not support loading a state.</exception>
    void LoadStateDict(OptimizerState state) =>
        throw new NotSupportedException($"{GetType().Name} does not implement LoadStateDict(); derive from Optimizer to get it.");
}
