using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// NAdam, Adam with Nesterov momentum (Dozat 2016): PyTorch's <c>torch.optim.NAdam</c> (JSON type <c>NAdam</c>), as of
/// 1.13 or 2.x (<see cref="Optimizer.TorchSemantics"/>), with its momentum schedule
/// <c>μₜ = β1·(1 − ½·0.96^(t·momentum_decay))</c>. Weight decay is L2, or decoupled with <c>decoupled_weight_decay</c> (2.x).
/// </summary>
/// <remarks>
/// State: <c>step</c>, <c>mu_product</c> (∏μ, a float32 scalar as in PyTorch), <c>exp_avg</c>, <c>exp_avg_sq</c>.
/// The versions differ: PyTorch 1.13 computes the second step's <c>mu_product_next</c> as the float32 product
/// <c>mu_product·μₜ·μₜ₊₁</c> (μₜ counted twice), 2.x as <c>mu_product.item()·μₜ₊₁</c> in double (PR #92699); 2.x updates
/// <c>exp_avg</c> with <c>lerp_</c> and adds <c>decoupled_weight_decay</c> and <c>maximize</c>, which 1.13 lacks.
/// </remarks>
public sealed class NAdam : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.NAdam</c> (the last two from PyTorch 2.x).</summary>
    public static readonly OptimizerSchema Arguments = new("NAdam",
        HyperParameter.Number("lr", 2e-3, ValidRange.NonNegative, description: "learning rate"),
        HyperParameter.Pair("betas", "beta1", "beta2", (0.9, 0.999), ValidRange.UnitHalfOpen, ValidRange.UnitHalfOpen,
            "decay rates of the first and second moment averages"),
        HyperParameter.Number("eps", 1e-8, ValidRange.NonNegative, description: "added to the denominator"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "L2 penalty added to the gradient (decoupled: p *= 1 - lr*weight_decay)"),
        HyperParameter.Number("momentum_decay", 4e-3, ValidRange.NonNegative, description: "ψ of the momentum schedule"),
        HyperParameter.Flag("decoupled_weight_decay", false, "decay the parameter (AdamW-style) instead of adding an L2 term to the gradient (PyTorch 2.x)")
            .Since(TorchSemantics.Torch2),
        HyperParameter.Flag("maximize", false, "maximize the objective instead of minimizing (PyTorch 2.x)").Since(TorchSemantics.Torch2));

    /// <summary>Creates NAdam over one group of parameters.</summary>
    public NAdam(IEnumerable<ITensor> parameters, double lr = 2e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0, double momentumDecay = 4e-3, bool decoupledWeightDecay = false, bool maximize = false,
        TorchSemantics semantics = TorchSemantics.Auto)
        : this(new[] { new ParamGroup(parameters) }, lr, betas, eps, weightDecay, momentumDecay, decoupledWeightDecay, maximize, semantics) { }

    /// <summary>Creates NAdam over parameter groups; a group's own settings override these defaults.</summary>
    public NAdam(IEnumerable<ParamGroup> groups, double lr = 2e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0, double momentumDecay = 4e-3, bool decoupledWeightDecay = false, bool maximize = false,
        TorchSemantics semantics = TorchSemantics.Auto)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["betas"] = betas ?? (0.9, 0.999), ["eps"] = eps, ["weight_decay"] = weightDecay,
            ["momentum_decay"] = momentumDecay, ["decoupled_weight_decay"] = decoupledWeightDecay, ["maximize"] = maximize,
        }), semantics) { }

    /// <summary>Creates NAdam from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public NAdam(IEnumerable<ParamGroup> groups, ParamGroup defaults, TorchSemantics semantics = TorchSemantics.Auto)
        : base(groups, defaults, Arguments, semantics) { }

    /// <inheritdoc />
    protected override IReadOnlyList<(string Key, bool Integer)> TensorScalarState { get; } =
        new[] { ("step", true), ("mu_product", false) };

    /// <inheritdoc />
    protected override void StepCore()
    {
        var behaviour = Behaviour;
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], beta1 = group["beta1"], beta2 = group["beta2"], eps = group["eps"],
                wd = group["weight_decay"], momentumDecay = group["momentum_decay"];
            // Under 1.13 semantics these are always false (the base class refuses anything else).
            bool decoupled = group.GetFlag("decoupled_weight_decay"), maximize = group.GetFlag("maximize");
            ForEachDenseGradient(group, (p, grad, state) =>
            {
                if (state.IsEmpty)
                {
                    state.Set("step", 0L);
                    state.Set("mu_product", 1.0);
                    state.Set("exp_avg", p.ZerosLike());
                    state.Set("exp_avg_sq", p.ZerosLike());
                }
                var expAvg = state.Tensor("exp_avg");
                var expAvgSq = state.Tensor("exp_avg_sq");
                var step = state.Long("step") + 1;
                state.Set("step", step);
                var biasCorrection2 = 1 - Math.Pow(beta2, step);
                var g = maximize ? grad.Neg() : grad;
                if (wd != 0)
                {
                    if (decoupled) p.Mul_(1 - lr * wd);
                    else g = g.Add(p, wd);
                }
                var mu = beta1 * (1.0 - 0.5 * Math.Pow(0.96, step * momentumDecay));
                var muNext = beta1 * (1.0 - 0.5 * Math.Pow(0.96, (step + 1) * momentumDecay));
                // mu_product is a float32 tensor in PyTorch: `mu_product *= mu` rounds to float32.
                var muProduct = (float)state.Double("mu_product") * (float)mu;
                state.Set("mu_product", (double)muProduct);
                // 2.x: mu_product.item() * mu_next (double); 1.13: the float32 tensor product mu_product * mu * mu_next.
                double muProductNext = behaviour.NAdamMuProductNextOnce ? muProduct * muNext : muProduct * (float)mu * (float)muNext;
                AdamUpdate.FirstMoment(behaviour, expAvg, g, beta1);
                expAvgSq.Mul_(beta2).AddCMul_(g, g, 1 - beta2);
                var denom = expAvgSq.Div(biasCorrection2).Sqrt_().Add_(eps);
                p.AddCDiv_(g, denom, -lr * (1.0 - mu) / (1.0 - muProduct));
                p.AddCDiv_(expAvg, denom, -lr * muNext / (1.0 - muProductNext));
            });
        }
    }
}
