using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// Adamax, Adam with the infinity norm (Kingma &amp; Ba 2015, §7): PyTorch's <c>torch.optim.Adamax</c>
/// (JSON type <c>Adamax</c>), as of 1.13 or 2.x (<see cref="Optimizer.TorchSemantics"/>). Weight decay is L2.
/// </summary>
/// <remarks>
/// Per parameter: <c>g += weight_decay·p</c>; <c>m = β1·m + (1−β1)·g</c>; <c>u = max(β2·u, |g| + eps)</c>;
/// <c>p −= lr/(1−β1ᵗ) · m / u</c>. State: <c>step</c>, <c>exp_avg</c>, <c>exp_inf</c>. 2.x updates <c>m</c> with <c>lerp_</c>.
/// </remarks>
public sealed class Adamax : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.Adamax</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("Adamax",
        HyperParameter.Number("lr", 2e-3, ValidRange.NonNegative, description: "learning rate"),
        HyperParameter.Pair("betas", "beta1", "beta2", (0.9, 0.999), ValidRange.UnitHalfOpen, ValidRange.UnitHalfOpen,
            "decay rates of the first moment and of the infinity norm"),
        HyperParameter.Number("eps", 1e-8, ValidRange.NonNegative, description: "added to |g| inside the maximum"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "L2 penalty added to the gradient"),
        HyperParameter.Flag("maximize", false, "maximize the objective instead of minimizing"));

    /// <summary>Creates Adamax over one group of parameters.</summary>
    public Adamax(IEnumerable<ITensor> parameters, double lr = 2e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(new[] { new ParamGroup(parameters) }, lr, betas, eps, weightDecay, maximize, semantics) { }

    /// <summary>Creates Adamax over parameter groups; a group's own settings override these defaults.</summary>
    public Adamax(IEnumerable<ParamGroup> groups, double lr = 2e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["betas"] = betas ?? (0.9, 0.999), ["eps"] = eps, ["weight_decay"] = weightDecay, ["maximize"] = maximize,
        }), semantics) { }

    /// <summary>Creates Adamax from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public Adamax(IEnumerable<ParamGroup> groups, ParamGroup defaults, TorchSemantics semantics = TorchSemantics.Auto)
        : base(groups, defaults, Arguments, semantics) { }

    /// <inheritdoc />
    protected override IReadOnlyList<(string Key, bool Integer)> TensorScalarState { get; } = new[] { ("step", true) };

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], beta1 = group["beta1"], beta2 = group["beta2"], eps = group["eps"], wd = group["weight_decay"];
            var maximize = group.GetFlag("maximize");
            ForEachDenseGradient(group, (p, grad, state) =>
            {
                if (state.IsEmpty)
                {
                    state.Set("step", 0L);
                    state.Set("exp_avg", p.ZerosLike());
                    state.Set("exp_inf", p.ZerosLike());
                }
                var expAvg = state.Tensor("exp_avg");
                var expInf = state.Tensor("exp_inf");
                var step = state.Long("step") + 1;
                state.Set("step", step);
                var g = maximize ? grad.Neg() : grad;
                if (wd != 0) g = g.Add(p, wd);
                AdamUpdate.FirstMoment(Behaviour, expAvg, g, beta1);
                // 1.13's torch.amax(cat([β2·u, |g|+eps]), 0) is the elementwise maximum of the two, 2.x's torch.maximum(out=).
                expInf.Mul_(beta2).Maximum_(g.Abs().Add_(eps));
                var clr = lr / (1 - Math.Pow(beta1, step));
                p.AddCDiv_(expAvg, expInf, -clr);
            });
        }
    }
}
