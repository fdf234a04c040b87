using MLLrSched.Backend;
using MLLrSched.Kernels;

namespace MLLrSched.Optimizers;

/// <summary>
/// RMSprop (Hinton, lecture 6e), optionally centered and with momentum: PyTorch's <c>torch.optim.RMSprop</c>
/// (JSON type <c>RMSprop</c>), as of 1.13 or 2.x (<see cref="Optimizer.TorchSemantics"/>). Weight decay is L2.
/// </summary>
/// <remarks>
/// Per parameter: <c>v = α·v + (1−α)·g²</c>; centered: <c>ḡ = α·ḡ + (1−α)·g</c> and <c>avg = √(v − ḡ²) + eps</c>,
/// else <c>avg = √v + eps</c>; with momentum <c>buf = momentum·buf + g/avg</c>, <c>p −= lr·buf</c>, else
/// <c>p −= lr·g/avg</c>. State: <c>step</c>, <c>square_avg</c>, <c>momentum_buffer</c> (momentum &gt; 0),
/// <c>grad_avg</c> (centered). 2.x updates <c>grad_avg</c> with <c>lerp_</c> and keeps <c>step</c> as a tensor.
/// </remarks>
public sealed class RmsProp : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.RMSprop</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("RMSprop",
        HyperParameter.Number("lr", 1e-2, ValidRange.NonNegative, description: "learning rate"),
        HyperParameter.Number("alpha", 0.99, ValidRange.NonNegative, description: "smoothing constant of the averages"),
        HyperParameter.Number("eps", 1e-8, ValidRange.NonNegative, description: "added to the denominator"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "L2 penalty added to the gradient"),
        HyperParameter.Number("momentum", 0.0, ValidRange.NonNegative, description: "momentum factor"),
        HyperParameter.Flag("centered", false, "normalize by the estimated variance instead of the second moment"),
        HyperParameter.Flag("maximize", false, "maximize the objective instead of minimizing"));

    /// <summary>Creates RMSprop over one group of parameters.</summary>
    public RmsProp(IEnumerable<ITensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false,
        TorchSemantics semantics = TorchSemantics.Auto)
        : this(new[] { new ParamGroup(parameters) }, lr, alpha, eps, weightDecay, momentum, centered, maximize, semantics) { }

    /// <summary>Creates RMSprop over parameter groups; a group's own settings override these defaults.</summary>
    public RmsProp(IEnumerable<ParamGroup> groups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false,
        TorchSemantics semantics = TorchSemantics.Auto)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["alpha"] = alpha, ["eps"] = eps, ["weight_decay"] = weightDecay, ["momentum"] = momentum,
            ["centered"] = centered, ["maximize"] = maximize,
        }), semantics) { }

    /// <summary>Creates RMSprop from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public RmsProp(IEnumerable<ParamGroup> groups, ParamGroup defaults, TorchSemantics semantics = TorchSemantics.Auto)
        : base(groups, defaults, Arguments, semantics) { }

    /// <summary>PyTorch 2.x keeps <c>step</c> as a 0-dim float32 tensor, 1.13 as a Python int.</summary>
    protected override IReadOnlyList<(string Key, bool Integer)> TensorScalarState => Behaviour.StepAsTensorEverywhere ? StepState : [];

    /// <inheritdoc />
    protected override IReadOnlyList<(string Key, bool Integer)> NumberState => Behaviour.StepAsTensorEverywhere ? [] : StepState;

    private static readonly (string Key, bool Integer)[] StepState = [("step", true)];

    /// <inheritdoc />
    protected override void StepCore()
    {
        var fused = Fused<IFusedRmsprop>();
        var lerp = Behaviour.LerpMoments;
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], alpha = group["alpha"], eps = group["eps"], wd = group["weight_decay"], momentum = group["momentum"];
            bool centered = group.GetFlag("centered"), maximize = group.GetFlag("maximize");
            ForEachDenseGradient(group, (p, grad, state) =>
            {
                if (state.IsEmpty)
                {
                    state.Set("step", 0L);
                    state.Set("square_avg", p.ZerosLike());
                    if (momentum > 0) state.Set("momentum_buffer", p.ZerosLike());
                    if (centered) state.Set("grad_avg", p.ZerosLike());
                }
                var squareAvg = state.Tensor("square_avg");
                var buf = momentum > 0 ? state.Tensor("momentum_buffer") : null;
                var gradAvg = centered ? state.Tensor("grad_avg") : null;
                state.Set("step", state.Long("step") + 1);
                if (fused != null && fused.TryRmsprop(p, grad, squareAvg, gradAvg, buf, lr, alpha, eps, wd, momentum, maximize, lerp))
                    return;
                var g = maximize ? grad.Neg() : grad;
                if (wd != 0) g = g.Add(p, wd);
                squareAvg.Mul_(alpha).AddCMul_(g, g, 1 - alpha);
                ITensor avg;
                if (centered)
                {
                    if (lerp) gradAvg!.Lerp_(g, 1 - alpha);
                    else gradAvg!.Mul_(alpha).Add_(g, 1 - alpha);
                    avg = squareAvg.Clone().AddCMul_(gradAvg, gradAvg, -1).Sqrt_();
                }
                else avg = squareAvg.Sqrt();
                avg.Add_(eps);
                if (momentum > 0)
                {
                    buf!.Mul_(momentum).AddCDiv_(g, avg);
                    p.Add_(buf, -lr);
                }
                else p.AddCDiv_(g, avg, -lr);
            });
        }
    }
}
