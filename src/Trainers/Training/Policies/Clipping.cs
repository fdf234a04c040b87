namespace MLLrSched.Training.Policies;

/// <summary>Adaptive gradient clipping (Brock et al., timm's <c>adaptive_clip_grad</c>), per output unit.</summary>
public sealed class AdaptiveClipping(double clipFactor, double eps) : StepPolicy
{
    /// <inheritdoc />
    public override string Name => "adaptive_clip";

    /// <inheritdoc />
    public override StepVerdict AfterBackward(TrainingRun run, StepInfo step)
    {
        GradientClipping.AdaptiveClipGrad(run.Parameters, clipFactor, eps);
        return StepVerdict.Continue;
    }
}

/// <summary>Clamps every gradient element into [-v, v] (<c>clip_grad_value_</c>).</summary>
public sealed class ValueClipping(double clipValue) : StepPolicy
{
    /// <inheritdoc />
    public override string Name => "clip_grad_value";

    /// <inheritdoc />
    public override StepVerdict AfterBackward(TrainingRun run, StepInfo step)
    {
        GradientClipping.ClipGradValue(run.Parameters, clipValue);
        return StepVerdict.Continue;
    }
}

/// <summary>
/// Measures the total gradient norm (reported as <see cref="StepInfo.GradNorm"/>, logged, and read by the non-finite
/// guard) and, with a max norm, clips to it (<c>clip_grad_norm_</c>). Always in the chain, so every step's norm is known.
/// </summary>
public sealed class NormClipping(double? maxNorm, double normType) : StepPolicy
{
    /// <inheritdoc />
    public override string Name => "clip_grad_norm";

    /// <inheritdoc />
    public override StepVerdict AfterBackward(TrainingRun run, StepInfo step)
    {
        step.GradNorm = maxNorm is { } max
            ? GradientClipping.ClipGradNorm(run.Parameters, max, normType)
            : GradientClipping.GradNorm(run.Parameters, normType);
        return StepVerdict.Continue;
    }
}
