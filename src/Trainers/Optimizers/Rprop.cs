using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// Resilient backpropagation (Riedmiller &amp; Braun 1993): PyTorch's <c>torch.optim.Rprop</c>
/// (JSON type <c>Rprop</c>), as of 1.13 or 2.x (<see cref="Optimizer.TorchSemantics"/>: the same update; 2.x keeps
/// <c>step</c> as a tensor). Only the sign of the gradient is used; each element has its own step size.
/// </summary>
/// <remarks>
/// Per element: where the gradient kept its sign the step size grows by <c>etaplus</c>, where it flipped it shrinks by
/// <c>etaminus</c> and the gradient is treated as zero for this step; step sizes are clamped to <c>step_sizes</c>;
/// <c>p −= sign(g)·step_size</c>. State: <c>step</c>, <c>prev</c>, <c>step_size</c>.
/// </remarks>
public sealed class Rprop : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.Rprop</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("Rprop",
        HyperParameter.Number("lr", 1e-2, ValidRange.NonNegative, description: "initial step size"),
        HyperParameter.Pair("etas", "etaminus", "etaplus", (0.5, 1.2), new ValidRange(0, true, 1, true), new ValidRange(1, true),
            "(etaminus, etaplus): multiplicative decrease and increase of the step size"),
        HyperParameter.Pair("step_sizes", "step_size_min", "step_size_max", (1e-6, 50), ValidRange.NonNegative, ValidRange.NonNegative,
            "(min, max) allowed step sizes"),
        HyperParameter.Flag("maximize", false, "maximize the objective instead of minimizing"));

    /// <summary>Creates Rprop over one group of parameters.</summary>
    public Rprop(IEnumerable<ITensor> parameters, double lr = 1e-2, (double EtaMinus, double EtaPlus)? etas = null,
        (double Min, double Max)? stepSizes = null, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(new[] { new ParamGroup(parameters) }, lr, etas, stepSizes, maximize, semantics) { }

    /// <summary>Creates Rprop over parameter groups; a group's own settings override these defaults.</summary>
    public Rprop(IEnumerable<ParamGroup> groups, double lr = 1e-2, (double EtaMinus, double EtaPlus)? etas = null,
        (double Min, double Max)? stepSizes = null, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["etas"] = etas ?? (0.5, 1.2), ["step_sizes"] = stepSizes ?? (1e-6, 50), ["maximize"] = maximize,
        }), semantics) { }

    /// <summary>Creates Rprop from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public Rprop(IEnumerable<ParamGroup> groups, ParamGroup defaults, TorchSemantics semantics = TorchSemantics.Auto)
        : base(groups, defaults, Arguments, semantics) { }

    /// <summary>PyTorch 2.x keeps <c>step</c> as a 0-dim float32 tensor, 1.13 as a Python int.</summary>
    protected override IReadOnlyList<(string Key, bool Integer)> TensorScalarState => Behaviour.StepAsTensorEverywhere ? StepState : [];

    /// <inheritdoc />
    protected override IReadOnlyList<(string Key, bool Integer)> NumberState => Behaviour.StepAsTensorEverywhere ? [] : StepState;

    private static readonly (string Key, bool Integer)[] StepState = [("step", true)];

    /// <inheritdoc />
    protected override void ValidateGroup(ParamGroup group, string where)
    {
        if (group["step_size_min"] > group["step_size_max"])
            throw new ArgumentOutOfRangeException("step_sizes",
                $"{where}: step_sizes must be (min, max) with min ≤ max, got ({group["step_size_min"]}, {group["step_size_max"]}).");
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var group in ParamGroups)
        {
            double etaminus = group["etaminus"], etaplus = group["etaplus"];
            double stepSizeMin = group["step_size_min"], stepSizeMax = group["step_size_max"];
            var maximize = group.GetFlag("maximize");
            ForEachDenseGradient(group, (p, grad, state) =>
            {
                if (state.IsEmpty)
                {
                    state.Set("step", 0L);
                    state.Set("prev", p.ZerosLike());
                    state.Set("step_size", grad.FullLike(group["lr"]));
                }
                var prev = state.Tensor("prev");
                var stepSize = state.Tensor("step_size");
                state.Set("step", state.Long("step") + 1);
                var g = maximize ? grad.Neg() : grad;
                var sign = g.Mul(prev).Sign_();
                sign.MaskedFill_(sign.Gt(0), etaplus);
                sign.MaskedFill_(sign.Lt(0), etaminus);
                sign.MaskedFill_(sign.Eq(0), 1);
                stepSize.Mul_(sign).Clamp_(stepSizeMin, stepSizeMax);
                // For directions that flipped, the gradient counts as zero in this step.
                g = g.Clone().MaskedFill_(sign.Eq(etaminus), 0);
                p.AddCMul_(g.Sign(), stepSize, -1);
                prev.Copy_(g);
            });
        }
    }
}
