using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// RAdam, rectified Adam (Liu et al. 2020): PyTorch's <c>torch.optim.RAdam</c> (JSON type <c>RAdam</c>), as of 1.13 or
/// 2.x (<see cref="Optimizer.TorchSemantics"/>). Weight decay is L2, or decoupled with <c>decoupled_weight_decay</c> (2.x).
/// </summary>
/// <remarks>
/// While the variance estimate is unreliable (ρₜ ≤ 5) the step is SGD with momentum on the bias-corrected first moment;
/// afterwards the adaptive step is scaled by the rectification term. State: <c>step</c>, <c>exp_avg</c>, <c>exp_avg_sq</c>.
/// 2.x updates <c>exp_avg</c> with <c>lerp_</c>, takes the square roots of the rectification term and of
/// <c>1 − β2ᵗ</c> as <c>** 0.5</c>, and adds <c>decoupled_weight_decay</c> and <c>maximize</c>, which 1.13 lacks.
/// </remarks>
public sealed class RAdam : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.RAdam</c> (the last two from PyTorch 2.x).</summary>
    public static readonly OptimizerSchema Arguments = new("RAdam",
        HyperParameter.Number("lr", 1e-3, ValidRange.NonNegative, description: "learning rate"),
        HyperParameter.Pair("betas", "beta1", "beta2", (0.9, 0.999), ValidRange.UnitHalfOpen, ValidRange.UnitHalfOpen,
            "decay rates of the first and second moment averages"),
        HyperParameter.Number("eps", 1e-8, ValidRange.NonNegative, description: "added to the denominator"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "L2 penalty added to the gradient (decoupled: p *= 1 - lr*weight_decay)"),
        HyperParameter.Flag("decoupled_weight_decay", false, "decay the parameter (AdamW-style) instead of adding an L2 term to the gradient (PyTorch 2.x)")
            .Since(TorchSemantics.Torch2),
        HyperParameter.Flag("maximize", false, "maximize the objective instead of minimizing (PyTorch 2.x)").Since(TorchSemantics.Torch2));

    /// <summary>Creates RAdam over one group of parameters.</summary>
    public RAdam(IEnumerable<ITensor> parameters, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0, bool decoupledWeightDecay = false, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(new[] { new ParamGroup(parameters) }, lr, betas, eps, weightDecay, decoupledWeightDecay, maximize, semantics) { }

    /// <summary>Creates RAdam over parameter groups; a group's own settings override these defaults.</summary>
    public RAdam(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0, bool decoupledWeightDecay = false, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["betas"] = betas ?? (0.9, 0.999), ["eps"] = eps, ["weight_decay"] = weightDecay,
            ["decoupled_weight_decay"] = decoupledWeightDecay, ["maximize"] = maximize,
        }), semantics) { }

    /// <summary>Creates RAdam from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public RAdam(IEnumerable<ParamGroup> groups, ParamGroup defaults, TorchSemantics semantics = TorchSemantics.Auto)
        : base(groups, defaults, Arguments, semantics) { }

    /// <inheritdoc />
    protected override IReadOnlyList<(string Key, bool Integer)> TensorScalarState { get; } = new[] { ("step", true) };

    /// <inheritdoc />
    protected override void StepCore()
    {
        var behaviour = Behaviour;
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], beta1 = group["beta1"], beta2 = group["beta2"], eps = group["eps"], wd = group["weight_decay"];
            // Under 1.13 semantics these are always false (the base class refuses anything else).
            bool decoupled = group.GetFlag("decoupled_weight_decay"), maximize = group.GetFlag("maximize");
            ForEachDenseGradient(group, (p, grad, state) =>
            {
                if (state.IsEmpty)
                {
                    state.Set("step", 0L);
                    state.Set("exp_avg", p.ZerosLike());
                    state.Set("exp_avg_sq", p.ZerosLike());
                }
                var expAvg = state.Tensor("exp_avg");
                var expAvgSq = state.Tensor("exp_avg_sq");
                var step = state.Long("step") + 1;
                state.Set("step", step);
                var biasCorrection1 = 1 - Math.Pow(beta1, step);
                var biasCorrection2 = 1 - Math.Pow(beta2, step);
                var g = maximize ? grad.Neg() : grad;
                if (wd != 0)
                {
                    if (decoupled) p.Mul_(1 - lr * wd);
                    else g = g.Add(p, wd);
                }
                AdamUpdate.FirstMoment(behaviour, expAvg, g, beta1);
                expAvgSq.Mul_(beta2).AddCMul_(g, g, 1 - beta2);
                var biasCorrectedExpAvg = expAvg.Div(biasCorrection1);
                var rhoInf = 2 / (1 - beta2) - 1;
                var rhoT = rhoInf - 2 * step * Math.Pow(beta2, step) / biasCorrection2;
                if (rhoT > 5.0)
                {
                    var rect = AdamUpdate.SquareRoot(behaviour, (rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
                    // Python's `float / tensor` is `tensor.reciprocal() * float`; pow(-1) is the same reciprocal.
                    var adaptiveLr = expAvgSq.Sqrt().Add_(eps).Pow_(-1).Mul_(AdamUpdate.SquareRoot(behaviour, biasCorrection2));
                    p.Add_(biasCorrectedExpAvg.Mul_(lr).Mul_(adaptiveLr).Mul_(rect), -1.0);
                }
                else p.Add_(biasCorrectedExpAvg.Mul_(lr), -1.0);
            });
        }
    }
}
