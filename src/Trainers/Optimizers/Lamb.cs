using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// LAMB, layer-wise adaptive moments (You et al. 2020, <i>Large Batch Optimization for Deep Learning</i>), with the
/// semantics of timm's <c>timm/optim/lamb.py</c> (the NVIDIA FusedLAMB variant; JSON type <c>Lamb</c>): global
/// gradient-norm clipping, optional bias correction and grad averaging, L2 weight decay folded into the update, and
/// the per-tensor trust ratio ‖p‖/‖update‖.
/// </summary>
/// <remarks>
/// Per step: <c>clip = max(1, ‖g‖_global / max_grad_norm)</c> (no clipping when <c>max_grad_norm</c> is null; the
/// gradients themselves are left untouched). Per parameter, with <c>g</c> divided by <c>clip</c>:
/// <c>m = β1·m + β3·g</c> (<c>β3 = 1−β1</c> with grad averaging, else 1); <c>v = β2·v + (1−β2)·g²</c>;
/// <c>u = (m/bc1) / (√v/√bc2 + eps)</c>; <c>u += weight_decay·p</c>; when weight decay ≠ 0 or <c>always_adapt</c>,
/// <c>u *= trust</c> with <c>trust = ‖p‖/‖u‖</c> (1 when either norm is 0; at most 1 with <c>trust_clip</c>);
/// <c>p −= lr·u</c>. State: <c>exp_avg</c>, <c>exp_avg_sq</c>; the step count lives in the group as <c>step</c>, as in timm.
/// </remarks>
public sealed class Lamb : Optimizer
{
    /// <summary>The arguments of timm's <c>Lamb</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("Lamb",
        HyperParameter.Number("lr", 1e-3, ValidRange.NonNegative, description: "learning rate"),
        HyperParameter.Flag("bias_correction", true, "divide the moments by 1 − βᵗ"),
        HyperParameter.Pair("betas", "beta1", "beta2", (0.9, 0.999), ValidRange.UnitHalfOpen, ValidRange.UnitHalfOpen,
            "decay rates of the first and second moment averages"),
        HyperParameter.Number("eps", 1e-6, ValidRange.NonNegative, description: "added to the denominator"),
        HyperParameter.Number("weight_decay", 0.01, ValidRange.NonNegative, description: "L2 term added to the update before the trust ratio"),
        HyperParameter.Flag("grad_averaging", true, "scale the gradient by 1 − β1 in the first moment"),
        HyperParameter.Number("max_grad_norm", 1.0, ValidRange.Positive, nullable: true,
            description: "clip the global gradient norm to this value (null: no clipping)"),
        HyperParameter.Flag("trust_clip", false, "clip the trust ratio at 1 (LAMBC)"),
        HyperParameter.Flag("always_adapt", false, "apply the trust ratio also where weight_decay is 0"),
        HyperParameter.Integer("step", null, ValidRange.NonNegative, nullable: true, settable: false,
            description: "steps taken by the group (kept by the optimizer)"));

    /// <summary>Creates LAMB over one group of parameters.</summary>
    public Lamb(IEnumerable<ITensor> parameters, double lr = 1e-3, bool biasCorrection = true, (double Beta1, double Beta2)? betas = null,
        double eps = 1e-6, double weightDecay = 0.01, bool gradAveraging = true, double? maxGradNorm = 1.0, bool trustClip = false,
        bool alwaysAdapt = false)
        : this(new[] { new ParamGroup(parameters) }, lr, biasCorrection, betas, eps, weightDecay, gradAveraging, maxGradNorm, trustClip,
            alwaysAdapt) { }

    /// <summary>Creates LAMB over parameter groups; a group's own settings override these defaults.</summary>
    public Lamb(IEnumerable<ParamGroup> groups, double lr = 1e-3, bool biasCorrection = true, (double Beta1, double Beta2)? betas = null,
        double eps = 1e-6, double weightDecay = 0.01, bool gradAveraging = true, double? maxGradNorm = 1.0, bool trustClip = false,
        bool alwaysAdapt = false)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["bias_correction"] = biasCorrection, ["betas"] = betas ?? (0.9, 0.999), ["eps"] = eps,
            ["weight_decay"] = weightDecay, ["grad_averaging"] = gradAveraging, ["max_grad_norm"] = maxGradNorm,
            ["trust_clip"] = trustClip, ["always_adapt"] = alwaysAdapt,
        })) { }

    /// <summary>Creates LAMB from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public Lamb(IEnumerable<ParamGroup> groups, ParamGroup defaults) : base(groups, defaults, Arguments) { }

    /// <inheritdoc />
    protected override void StepCore()
    {
        // timm reads max_grad_norm from the defaults, not per group.
        var clip = GlobalClip(Defaults.TryGet("max_grad_norm", out var m) ? m : null);
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], beta1 = group["beta1"], beta2 = group["beta2"], eps = group["eps"], wd = group["weight_decay"];
            bool alwaysAdapt = group.GetFlag("always_adapt"), trustClip = group.GetFlag("trust_clip");
            var beta3 = group.GetFlag("grad_averaging") ? 1 - beta1 : 1.0;
            var step = (group.TryGet("step", out var s) ? (long)s : 0) + 1;
            group["step"] = step;
            double bc1 = 1.0, bc2 = 1.0;
            if (group.GetFlag("bias_correction"))
            {
                bc1 = 1 - Math.Pow(beta1, step);
                bc2 = 1 - Math.Pow(beta2, step);
            }
            ForEachGradient(group, (p, grad, state) =>
            {
                var g = clip is { } c ? grad.Div(c) : grad;
                if (state.IsEmpty)
                {
                    state.Set("exp_avg", p.ZerosLike());
                    state.Set("exp_avg_sq", p.ZerosLike());
                }
                var expAvg = state.Tensor("exp_avg");
                var expAvgSq = state.Tensor("exp_avg_sq");
                expAvg.Mul_(beta1).Add_(g, beta3);
                expAvgSq.Mul_(beta2).AddCMul_(g, g, 1 - beta2);
                var denom = expAvgSq.Sqrt().Div_(Math.Sqrt(bc2)).Add_(eps);
                var update = expAvg.Div(bc1).Div_(denom);
                if (wd != 0) update.Add_(p, wd);
                if (wd != 0 || alwaysAdapt)
                {
                    // 0-dim float32 tensors in timm: the ratio is a float32 division.
                    var wNorm = (float)p.Norm(2).Item();
                    var gNorm = (float)update.Norm(2).Item();
                    var trust = wNorm > 0 ? (gNorm > 0 ? wNorm / gNorm : 1f) : 1f;
                    if (trustClip) trust = Math.Min(trust, 1f);
                    update.Mul_(trust);
                }
                p.Add_(update, -lr);
            });
        }
    }

    /// <summary>timm's clip divisor: max(1, ‖g‖/max_grad_norm) in float32, or null when clipping is off.</summary>
    private double? GlobalClip(double? maxGradNorm)
    {
        if (maxGradNorm is not { } max) return null;
        // global_grad_norm = zeros(1); add_(grad.pow(2).sum()) per gradient; sqrt — all float32.
        var sumSq = 0f;
        var any = false;
        foreach (var group in ParamGroups)
            foreach (var p in group.Parameters)
            {
                using var scope = Backend.NewScope();
                var grad = p.Grad;
                if (grad == null) continue;
                RejectSparse(grad, "consider SparseAdam instead");
                sumSq += (float)grad.Pow(2).Sum().Item();
                any = true;
            }
        if (!any) return null;
        var norm = MathF.Sqrt(sumSq);
        var maxF = (float)max;
        return norm > maxF ? norm / maxF : 1f;
    }
}
