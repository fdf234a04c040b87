using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// Averaged SGD (Polyak &amp; Juditsky 1992): PyTorch 1.13's <c>torch.optim.ASGD</c> (JSON type <c>ASGD</c>).
/// Weight decay is L2. The averaged parameters are kept in the state as <c>ax</c>.
/// </summary>
/// <remarks>
/// Per parameter: <c>p *= 1 − λ·η</c>; <c>p −= η·g</c>; <c>ax += μ·(p − ax)</c> (a copy while μ = 1);
/// then <c>η = lr / (1 + λ·lr·t)^α</c> and <c>μ = 1 / max(1, t − t0)</c>. State: <c>step</c>, <c>eta</c>, <c>mu</c>
/// (float32 scalars, as PyTorch keeps them), <c>ax</c>.
/// </remarks>
public sealed class Asgd : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.ASGD</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("ASGD",
        HyperParameter.Number("lr", 1e-2, ValidRange.NonNegative, description: "learning rate"),
        HyperParameter.Number("lambd", 1e-4, ValidRange.Any, description: "decay term"),
        HyperParameter.Number("alpha", 0.75, ValidRange.Any, description: "power for the eta update"),
        HyperParameter.Number("t0", 1e6, ValidRange.Any, description: "step at which averaging starts"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "L2 penalty added to the gradient"),
        HyperParameter.Flag("maximize", false, "maximize the objective instead of minimizing"));

    /// <summary>Creates ASGD over one group of parameters.</summary>
    public Asgd(IEnumerable<ITensor> parameters, double lr = 1e-2, double lambd = 1e-4, double alpha = 0.75, double t0 = 1e6,
        double weightDecay = 0, bool maximize = false)
        : this(new[] { new ParamGroup(parameters) }, lr, lambd, alpha, t0, weightDecay, maximize) { }

    /// <summary>Creates ASGD over parameter groups; a group's own settings override these defaults.</summary>
    public Asgd(IEnumerable<ParamGroup> groups, double lr = 1e-2, double lambd = 1e-4, double alpha = 0.75, double t0 = 1e6,
        double weightDecay = 0, bool maximize = false)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["lambd"] = lambd, ["alpha"] = alpha, ["t0"] = t0, ["weight_decay"] = weightDecay, ["maximize"] = maximize,
        })) { }

    /// <summary>Creates ASGD from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public Asgd(IEnumerable<ParamGroup> groups, ParamGroup defaults) : base(groups, defaults, Arguments) { }

    /// <inheritdoc />
    protected override IReadOnlyList<(string Key, bool Integer)> TensorScalarState { get; } =
        new[] { ("step", true), ("eta", false), ("mu", false) };

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], lambd = group["lambd"], alpha = group["alpha"], t0 = group["t0"], wd = group["weight_decay"];
            var maximize = group.GetFlag("maximize");
            ForEachDenseGradient(group, (p, grad, state) =>
            {
                if (state.IsEmpty)
                {
                    state.Set("step", 0L);
                    state.Set("eta", (double)(float)lr);   // torch.tensor(lr): float32
                    state.Set("mu", 1.0);
                    state.Set("ax", p.ZerosLike());
                }
                var ax = state.Tensor("ax");
                double eta = state.Double("eta"), mu = state.Double("mu");
                var step = state.Long("step") + 1;
                state.Set("step", step);
                var g = maximize ? grad.Neg() : grad;
                if (wd != 0) g = g.Add(p, wd);
                p.Mul_(1 - lambd * eta);
                p.Add_(g, -eta);
                if (mu != 1) ax.Add_(p.Sub(ax).Mul_(mu));
                else ax.Copy_(p);
                state.Set("eta", (double)(float)(lr / Math.Pow(1 + lambd * lr * step, alpha)));
                state.Set("mu", (double)(float)(1 / Math.Max(1, step - t0)));
            });
        }
    }
}
