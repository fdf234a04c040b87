using MLLrSched.Backend;
using MLLrSched.Kernels;

namespace MLLrSched.Optimizers;

/// <summary>
/// Lion, "EvoLved Sign Momentum" (Chen et al. 2023, <i>Symbolic Discovery of Optimization Algorithms</i>), as the
/// reference implementation lucidrains/lion-pytorch writes it (JSON type <c>Lion</c>). Weight decay is decoupled.
/// </summary>
/// <remarks>
/// Per parameter: <c>p *= 1 − lr·weight_decay</c>; <c>p −= lr · sign(β1·m + (1−β1)·g)</c>;
/// <c>m = β2·m + (1−β2)·g</c>. State: <c>exp_avg</c>. Lion's updates have unit magnitude per element, so its
/// learning rate is typically 3–10× smaller than AdamW's and its weight decay 3–10× larger.
/// </remarks>
public sealed class Lion : Optimizer
{
    /// <summary>The arguments of lion-pytorch's <c>Lion</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("Lion",
        HyperParameter.Number("lr", 1e-4, ValidRange.Positive, description: "learning rate"),
        HyperParameter.Pair("betas", "beta1", "beta2", (0.9, 0.99), ValidRange.Unit, ValidRange.Unit,
            "interpolation for the update direction, decay of the momentum"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "decoupled weight decay: p *= 1 - lr*weight_decay"));

    /// <summary>Creates Lion over one group of parameters.</summary>
    public Lion(IEnumerable<ITensor> parameters, double lr = 1e-4, (double Beta1, double Beta2)? betas = null, double weightDecay = 0)
        : this(new[] { new ParamGroup(parameters) }, lr, betas, weightDecay) { }

    /// <summary>Creates Lion over parameter groups; a group's own settings override these defaults.</summary>
    public Lion(IEnumerable<ParamGroup> groups, double lr = 1e-4, (double Beta1, double Beta2)? betas = null, double weightDecay = 0)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["betas"] = betas ?? (0.9, 0.99), ["weight_decay"] = weightDecay,
        })) { }

    /// <summary>Creates Lion from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public Lion(IEnumerable<ParamGroup> groups, ParamGroup defaults) : base(groups, defaults, Arguments) { }

    /// <inheritdoc />
    protected override void StepCore()
    {
        var fused = Fused<IFusedLion>();
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], beta1 = group["beta1"], beta2 = group["beta2"], wd = group["weight_decay"];
            ForEachDenseGradient(group, (p, grad, state) =>
            {
                if (state.IsEmpty) state.Set("exp_avg", p.ZerosLike());
                var expAvg = state.Tensor("exp_avg");
                if (fused != null && fused.TryLion(p, grad, expAvg, lr, beta1, beta2, wd)) return;
                p.Mul_(1.0 - lr * wd);
                var update = expAvg.Clone().Mul_(beta1).Add(grad, 1.0 - beta1).Sign_();
                p.Add_(update, -lr);
                expAvg.Mul_(beta2).Add_(grad, 1.0 - beta2);
            });
        }
    }
}
