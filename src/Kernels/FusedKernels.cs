using MLLrSched.Backend;

namespace MLLrSched.Kernels;

// Each method returns false when it cannot handle the given tensors (device, dtype, layout); the caller then runs its
// tensor-op path, which computes the same float operations.

/// <summary>One Adam (decoupled = false) or AdamW (decoupled = true) step, PyTorch semantics.</summary>
public interface IFusedAdam
{
    /// <summary>Updates the parameter and Adam's state in one pass.</summary>
    /// <param name="param">The parameter, updated in place.</param>
    /// <param name="grad">Its gradient (read only).</param>
    /// <param name="expAvg">PyTorch's <c>exp_avg</c>, updated in place.</param>
    /// <param name="expAvgSq">PyTorch's <c>exp_avg_sq</c>, updated in place.</param>
    /// <param name="maxExpAvgSq">PyTorch's <c>max_exp_avg_sq</c> when amsgrad, else null.</param>
    /// <param name="lr">The group's learning rate.</param>
    /// <param name="beta1">First-moment coefficient.</param>
    /// <param name="beta2">Second-moment coefficient.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="weightDecay">L2 penalty (Adam) or decoupled decay (AdamW).</param>
    /// <param name="step">The step number after increment (1 on the first step).</param>
    /// <param name="decoupled">AdamW's decoupled weight decay instead of Adam's L2 penalty.</param>
    /// <param name="maximize">Ascend instead of descend (the gradient is negated).</param>
    /// <param name="lerpFirstMoment">PyTorch 2.x's <c>exp_avg.lerp_(grad, 1 - beta1)</c> (ATen's CPU lerp) instead of
    /// 1.13's <c>exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)</c>.</param>
    /// <param name="powBiasCorrection">PyTorch 2.x's <c>bias_correction2 ** 0.5</c> (C <c>pow</c>) instead of 1.13's
    /// <c>math.sqrt(bias_correction2)</c>.</param>
    bool TryAdam(ITensor param, ITensor grad, ITensor expAvg, ITensor expAvgSq, ITensor? maxExpAvgSq,
        double lr, double beta1, double beta2, double eps, double weightDecay, long step, bool decoupled, bool maximize,
        bool lerpFirstMoment, bool powBiasCorrection);
}

/// <summary>One SGD step, PyTorch semantics.</summary>
public interface IFusedSgd
{
    /// <summary><paramref name="momentumBuffer"/> is null when momentum is 0; <paramref name="firstStep"/> initialises it
    /// from the gradient.</summary>
    bool TrySgd(ITensor param, ITensor grad, ITensor? momentumBuffer, double lr, double momentum, double dampening,
        double weightDecay, bool nesterov, bool firstStep, bool maximize);
}

/// <summary>One Lion step as lucidrains/lion-pytorch defines it: <c>p *= 1 - lr*wd</c>,
/// <c>p -= lr * sign(beta1*m + (1-beta1)*g)</c>, <c>m = beta2*m + (1-beta2)*g</c>.</summary>
public interface IFusedLion
{
    /// <summary>Updates the parameter and its momentum in one pass.</summary>
    bool TryLion(ITensor param, ITensor grad, ITensor expAvg, double lr, double beta1, double beta2, double weightDecay);
}

/// <summary>One RMSprop step, PyTorch semantics.</summary>
public interface IFusedRmsprop
{
    /// <summary><paramref name="gradAvg"/> is non-null exactly when centered; <paramref name="momentumBuffer"/> exactly
    /// when momentum &gt; 0.</summary>
    /// <param name="param">The parameter, updated in place.</param>
    /// <param name="grad">Its gradient (read only).</param>
    /// <param name="squareAvg">PyTorch's <c>square_avg</c>, updated in place.</param>
    /// <param name="gradAvg">PyTorch's <c>grad_avg</c> when centered, else null.</param>
    /// <param name="momentumBuffer">PyTorch's <c>momentum_buffer</c> when momentum &gt; 0, else null.</param>
    /// <param name="lr">The group's learning rate.</param>
    /// <param name="alpha">Smoothing constant of the square average.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="weightDecay">L2 penalty.</param>
    /// <param name="momentum">Momentum factor (0: none).</param>
    /// <param name="maximize">Ascend instead of descend (the gradient is negated).</param>
    /// <param name="lerpGradAvg">PyTorch 2.x's <c>grad_avg.lerp_(grad, 1 - alpha)</c> (ATen's CPU lerp) instead of 1.13's
    /// <c>grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)</c>; matters only when centered.</param>
    bool TryRmsprop(ITensor param, ITensor grad, ITensor squareAvg, ITensor? gradAvg, ITensor? momentumBuffer,
        double lr, double alpha, double eps, double weightDecay, double momentum, bool maximize, bool lerpGradAvg);
}

/// <summary>One dense Adagrad step, PyTorch semantics.</summary>
public interface IFusedAdagrad
{
    /// <summary><paramref name="clr"/> is the decayed learning rate <c>lr / (1 + (step - 1) * lr_decay)</c>.</summary>
    bool TryAdagrad(ITensor param, ITensor grad, ITensor stateSum, double clr, double eps, double weightDecay, bool maximize);
}

/// <summary>The EMA update of a weight average: shadow = decay * shadow + (1 - decay) * param for every pair
/// (AveragedModel's EMA form).</summary>
public interface IFusedEma
{
    /// <summary>Updates every shadow tensor in one pass over each pair.</summary>
    bool TryEma(IReadOnlyList<ITensor> shadows, IReadOnlyList<ITensor> parameters, double decay);
}
