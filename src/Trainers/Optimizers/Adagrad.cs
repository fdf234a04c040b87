using MLLrSched.Backend;
using MLLrSched.Kernels;

namespace MLLrSched.Optimizers;

/// <summary>
/// Adagrad (Duchi et al. 2011): PyTorch 1.13's <c>torch.optim.Adagrad</c> (JSON type <c>Adagrad</c>), dense or sparse
/// gradients. Weight decay is L2 (not allowed with sparse gradients, as in PyTorch).
/// </summary>
/// <remarks>
/// Per parameter: <c>clr = lr / (1 + (t−1)·lr_decay)</c>; <c>sum += g²</c>; <c>p −= clr · g / (√sum + eps)</c>.
/// State: <c>step</c> and <c>sum</c> (filled with <c>initial_accumulator_value</c>), created for every parameter at
/// construction as PyTorch does.
/// </remarks>
public sealed class Adagrad : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.Adagrad</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("Adagrad",
        HyperParameter.Number("lr", 1e-2, ValidRange.NonNegative, description: "learning rate"),
        HyperParameter.Number("lr_decay", 0.0, ValidRange.NonNegative, description: "learning-rate decay per step"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "L2 penalty added to the gradient"),
        HyperParameter.Number("initial_accumulator_value", 0.0, ValidRange.NonNegative, description: "starting value of the sum of squares"),
        HyperParameter.Number("eps", 1e-10, ValidRange.NonNegative, description: "added to the denominator"),
        HyperParameter.Flag("maximize", false, "maximize the objective instead of minimizing"));

    /// <summary>Creates Adagrad over one group of parameters.</summary>
    public Adagrad(IEnumerable<ITensor> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this(new[] { new ParamGroup(parameters) }, lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize) { }

    /// <summary>Creates Adagrad over parameter groups; a group's own settings override these defaults.</summary>
    public Adagrad(IEnumerable<ParamGroup> groups, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["lr_decay"] = lrDecay, ["weight_decay"] = weightDecay,
            ["initial_accumulator_value"] = initialAccumulatorValue, ["eps"] = eps, ["maximize"] = maximize,
        })) { }

    /// <summary>Creates Adagrad from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public Adagrad(IEnumerable<ParamGroup> groups, ParamGroup defaults) : base(groups, defaults, Arguments) { }

    /// <inheritdoc />
    protected override IReadOnlyList<(string Key, bool Integer)> TensorScalarState { get; } = new[] { ("step", true) };

    /// <inheritdoc />
    protected override void OnGroupAdded(ParamGroup group)
    {
        var init = group["initial_accumulator_value"];
        foreach (var p in group.Parameters)
        {
            var state = StateOf(p);
            state.Set("step", 0L);
            state.Set("sum", p.FullLike(init));
        }
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        var fused = Fused<IFusedAdagrad>();
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], lrDecay = group["lr_decay"], wd = group["weight_decay"], eps = group["eps"];
            var maximize = group.GetFlag("maximize");
            ForEachGradient(group, (p, grad, state) =>
            {
                var sum = state.Tensor("sum");
                var step = state.Long("step") + 1;
                state.Set("step", step);
                var clr = lr / (1 + (step - 1) * lrDecay);
                if (!grad.IsSparse && fused != null && fused.TryAdagrad(p, grad, sum, clr, eps, wd, maximize)) return;
                var g = maximize ? grad.Neg() : grad;
                if (wd != 0)
                {
                    if (g.IsSparse)
                        throw new InvalidOperationException("Adagrad: weight_decay option is not compatible with sparse gradients.");
                    g = g.Add(p, wd);
                }
                if (g.IsSparse)
                {
                    // The update is non-linear, so duplicate indices must be summed first.
                    g = g.Coalesce();
                    var indices = g.SparseIndices();
                    var values = g.SparseValues();
                    if (indices.NumberOfElements == 0 || values.NumberOfElements == 0) return;
                    sum.Add_(g.NewSparse(indices, values.Pow(2)));
                    var std = sum.SparseMask(g);
                    var stdValues = std.SparseValues().Sqrt_().Add_(eps);
                    p.Add_(g.NewSparse(indices, values.Div(stdValues)), -clr);
                }
                else
                {
                    sum.AddCMul_(g, g, 1);
                    var std = sum.Sqrt().Add_(eps);
                    p.AddCDiv_(g, std, -clr);
                }
            });
        }
    }
}
