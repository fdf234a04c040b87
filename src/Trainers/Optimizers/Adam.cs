using MLLrSched.Backend;
using MLLrSched.Kernels;

namespace MLLrSched.Optimizers;

/// <summary>
/// Adam (Kingma &amp; Ba 2015) with optional AMSGrad: PyTorch's <c>torch.optim.Adam</c> (JSON type <c>Adam</c>),
/// as of 1.13 or 2.x (<see cref="Optimizer.TorchSemantics"/>).
/// Weight decay is L2, added to the gradient before the moments; for decoupled decay use <see cref="AdamW"/>.
/// </summary>
/// <remarks>
/// Per parameter: <c>g += weight_decay·p</c>; <c>m = β1·m + (1−β1)·g</c>; <c>v = β2·v + (1−β2)·g²</c>;
/// <c>p −= lr/(1−β1ᵗ) · m / (√v̂/√(1−β2ᵗ) + eps)</c> with <c>v̂ = v</c>, or the running maximum of <c>v</c> with amsgrad.
/// State: <c>step</c>, <c>exp_avg</c>, <c>exp_avg_sq</c>, <c>max_exp_avg_sq</c> (amsgrad). 2.x updates <c>m</c> with
/// <c>lerp_</c> and takes <c>√(1−β2ᵗ)</c> as <c>** 0.5</c>, which round differently.
/// </remarks>
public sealed class Adam : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.Adam</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("Adam",
        HyperParameter.Number("lr", 1e-3, ValidRange.NonNegative, description: "learning rate"),
        HyperParameter.Pair("betas", "beta1", "beta2", (0.9, 0.999), ValidRange.UnitHalfOpen, ValidRange.UnitHalfOpen,
            "decay rates of the first and second moment averages"),
        HyperParameter.Number("eps", 1e-8, ValidRange.NonNegative, description: "added to the denominator"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "L2 penalty added to the gradient"),
        HyperParameter.Flag("amsgrad", false, "use the running maximum of the second moment (AMSGrad)"),
        HyperParameter.Flag("maximize", false, "maximize the objective instead of minimizing"));

    /// <summary>Creates Adam over one group of parameters.</summary>
    public Adam(IEnumerable<ITensor> parameters, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0, bool amsgrad = false, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(new[] { new ParamGroup(parameters) }, lr, betas, eps, weightDecay, amsgrad, maximize, semantics) { }

    /// <summary>Creates Adam over parameter groups; a group's own settings override these defaults.</summary>
    public Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0, bool amsgrad = false, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["betas"] = betas ?? (0.9, 0.999), ["eps"] = eps, ["weight_decay"] = weightDecay,
            ["amsgrad"] = amsgrad, ["maximize"] = maximize,
        }), semantics) { }

    /// <summary>Creates Adam from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public Adam(IEnumerable<ParamGroup> groups, ParamGroup defaults, TorchSemantics semantics = TorchSemantics.Auto)
        : base(groups, defaults, Arguments, semantics) { }

    /// <inheritdoc />
    protected override IReadOnlyList<(string Key, bool Integer)> TensorScalarState { get; } = new[] { ("step", true) };

    /// <inheritdoc />
    protected override void StepCore()
    {
        var fused = Fused<IFusedAdam>();
        foreach (var group in ParamGroups)
            ForEachDenseGradient(group, (p, grad, state) => AdamUpdate.Step(fused, Behaviour, group, p, grad, state, decoupled: false),
                "please consider SparseAdam instead");
    }
}
