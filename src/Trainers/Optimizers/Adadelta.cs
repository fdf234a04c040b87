using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// Adadelta (Zeiler 2012): PyTorch's <c>torch.optim.Adadelta</c> (JSON type <c>Adadelta</c>), as of 1.13 or 2.x
/// (<see cref="Optimizer.TorchSemantics"/>: the same update; 2.x keeps <c>step</c> as a tensor). Weight decay is L2.
/// </summary>
/// <remarks>
/// Per parameter: <c>v = ρ·v + (1−ρ)·g²</c>; <c>Δ = √(u + eps) / √(v + eps) · g</c>; <c>u = ρ·u + (1−ρ)·Δ²</c>;
/// <c>p −= lr·Δ</c>. State: <c>step</c>, <c>square_avg</c>, <c>acc_delta</c>.
/// </remarks>
public sealed class Adadelta : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.Adadelta</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("Adadelta",
        HyperParameter.Number("lr", 1.0, ValidRange.NonNegative, description: "scale applied to the delta"),
        HyperParameter.Number("rho", 0.9, ValidRange.Unit, description: "decay rate of the running averages"),
        HyperParameter.Number("eps", 1e-6, ValidRange.NonNegative, description: "added inside the square roots"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "L2 penalty added to the gradient"),
        HyperParameter.Flag("maximize", false, "maximize the objective instead of minimizing"));

    /// <summary>Creates Adadelta over one group of parameters.</summary>
    public Adadelta(IEnumerable<ITensor> parameters, double lr = 1.0, double rho = 0.9, double eps = 1e-6,
        double weightDecay = 0, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(new[] { new ParamGroup(parameters) }, lr, rho, eps, weightDecay, maximize, semantics) { }

    /// <summary>Creates Adadelta over parameter groups; a group's own settings override these defaults.</summary>
    public Adadelta(IEnumerable<ParamGroup> groups, double lr = 1.0, double rho = 0.9, double eps = 1e-6,
        double weightDecay = 0, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["rho"] = rho, ["eps"] = eps, ["weight_decay"] = weightDecay, ["maximize"] = maximize,
        }), semantics) { }

    /// <summary>Creates Adadelta from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public Adadelta(IEnumerable<ParamGroup> groups, ParamGroup defaults, TorchSemantics semantics = TorchSemantics.Auto)
        : base(groups, defaults, Arguments, semantics) { }

    /// <summary>PyTorch 2.x keeps <c>step</c> as a 0-dim float32 tensor, 1.13 as a Python int.</summary>
    protected override IReadOnlyList<(string Key, bool Integer)> TensorScalarState => Behaviour.StepAsTensorEverywhere ? StepState : [];

    /// <inheritdoc />
    protected override IReadOnlyList<(string Key, bool Integer)> NumberState => Behaviour.StepAsTensorEverywhere ? [] : StepState;

    private static readonly (string Key, bool Integer)[] StepState = [("step", true)];

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], rho = group["rho"], eps = group["eps"], wd = group["weight_decay"];
            var maximize = group.GetFlag("maximize");
            ForEachDenseGradient(group, (p, grad, state) =>
            {
                if (state.IsEmpty)
                {
                    state.Set("step", 0L);
                    state.Set("square_avg", p.ZerosLike());
                    state.Set("acc_delta", p.ZerosLike());
                }
                var squareAvg = state.Tensor("square_avg");
                var accDelta = state.Tensor("acc_delta");
                state.Set("step", state.Long("step") + 1);
                var g = maximize ? grad.Neg() : grad;
                if (wd != 0) g = g.Add(p, wd);
                squareAvg.Mul_(rho).AddCMul_(g, g, 1 - rho);
                var std = squareAvg.Add(eps).Sqrt_();
                var delta = accDelta.Add(eps).Sqrt_().Div_(std).Mul_(g);
                accDelta.Mul_(rho).AddCMul_(delta, delta, 1 - rho);
                p.Add_(delta, -lr);
            });
        }
    }
}
