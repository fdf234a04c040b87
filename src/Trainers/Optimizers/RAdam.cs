using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// RAdam, rectified Adam (Liu et al. 2020): PyTorch 1.13's <c>torch.optim.RAdam</c> (JSON type <c>RAdam</c>).
/// Weight decay is L2.
/// </summary>
/// <remarks>
/// While the variance estimate is unreliable (ρₜ ≤ 5) the step is SGD with momentum on the bias-corrected first moment;
/// afterwards the adaptive step is scaled by the rectification term. State: <c>step</c>, <c>exp_avg</c>, <c>exp_avg_sq</c>.
/// PyTorch 1.13's RAdam has no <c>maximize</c>.
/// </remarks>
public sealed class RAdam : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.RAdam</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("RAdam",
        HyperParameter.Number("lr", 1e-3, ValidRange.NonNegative, description: "learning rate"),
        HyperParameter.Pair("betas", "beta1", "beta2", (0.9, 0.999), ValidRange.UnitHalfOpen, ValidRange.UnitHalfOpen,
            "decay rates of the first and second moment averages"),
        HyperParameter.Number("eps", 1e-8, ValidRange.NonNegative, description: "added to the denominator"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "L2 penalty added to the gradient"));

    /// <summary>Creates RAdam over one group of parameters.</summary>
    public RAdam(IEnumerable<ITensor> parameters, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0)
        : this(new[] { new ParamGroup(parameters) }, lr, betas, eps, weightDecay) { }

    /// <summary>Creates RAdam over parameter groups; a group's own settings override these defaults.</summary>
    public RAdam(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["betas"] = betas ?? (0.9, 0.999), ["eps"] = eps, ["weight_decay"] = weightDecay,
        })) { }

    /// <summary>Creates RAdam from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public RAdam(IEnumerable<ParamGroup> groups, ParamGroup defaults) : base(groups, defaults, Arguments) { }

    /// <inheritdoc />
    protected override IReadOnlyList<(string Key, bool Integer)> TensorScalarState { get; } = new[] { ("step", true) };

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], beta1 = group["beta1"], beta2 = group["beta2"], eps = group["eps"], wd = group["weight_decay"];
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
                var g = wd != 0 ? grad.Add(p, wd) : grad;
                expAvg.Mul_(beta1).Add_(g, 1 - beta1);
                expAvgSq.Mul_(beta2).AddCMul_(g, g, 1 - beta2);
                var biasCorrectedExpAvg = expAvg.Div(biasCorrection1);
                var rhoInf = 2 / (1 - beta2) - 1;
                var rhoT = rhoInf - 2 * step * Math.Pow(beta2, step) / biasCorrection2;
                if (rhoT > 5.0)
                {
                    var rect = Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
                    // Python's `float / tensor` is `tensor.reciprocal() * float`; pow(-1) is the same reciprocal.
                    var adaptiveLr = expAvgSq.Sqrt().Add_(eps).Pow_(-1).Mul_(Math.Sqrt(biasCorrection2));
                    p.Add_(biasCorrectedExpAvg.Mul_(lr).Mul_(adaptiveLr).Mul_(rect), -1.0);
                }
                else p.Add_(biasCorrectedExpAvg.Mul_(lr), -1.0);
            });
        }
    }
}
