using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// Lazy Adam for sparse gradients (e.g. of an embedding with <c>sparse=True</c>): PyTorch 1.13's
/// <c>torch.optim.SparseAdam</c> (JSON type <c>SparseAdam</c>). Only the rows present in the gradient update
/// their moments and parameters. Dense gradients are refused, as in PyTorch.
/// </summary>
/// <remarks>State: <c>step</c> (a whole number, as in PyTorch), <c>exp_avg</c>, <c>exp_avg_sq</c>.</remarks>
public sealed class SparseAdam : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.SparseAdam</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("SparseAdam",
        HyperParameter.Number("lr", 1e-3, ValidRange.Positive, description: "learning rate"),
        HyperParameter.Pair("betas", "beta1", "beta2", (0.9, 0.999), ValidRange.UnitHalfOpen, ValidRange.UnitHalfOpen,
            "decay rates of the first and second moment averages"),
        HyperParameter.Number("eps", 1e-8, ValidRange.Positive, description: "added to the denominator"),
        HyperParameter.Flag("maximize", false, "maximize the objective instead of minimizing"));

    /// <summary>Creates SparseAdam over one group of parameters.</summary>
    public SparseAdam(IEnumerable<ITensor> parameters, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        bool maximize = false)
        : this(new[] { new ParamGroup(parameters) }, lr, betas, eps, maximize) { }

    /// <summary>Creates SparseAdam over parameter groups; a group's own settings override these defaults.</summary>
    public SparseAdam(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        bool maximize = false)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["betas"] = betas ?? (0.9, 0.999), ["eps"] = eps, ["maximize"] = maximize,
        })) { }

    /// <summary>Creates SparseAdam from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public SparseAdam(IEnumerable<ParamGroup> groups, ParamGroup defaults) : base(groups, defaults, Arguments) { }

    /// <inheritdoc />
    protected override void OnGroupAdded(ParamGroup group)
    {
        for (var i = 0; i < group.Parameters.Count; i++)
            if (group.Parameters[i].IsSparse)
                throw new ArgumentException($"SparseAdam requires dense parameter tensors; '{group.Names[i]}' is sparse.");
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], beta1 = group["beta1"], beta2 = group["beta2"], eps = group["eps"];
            var maximize = group.GetFlag("maximize");
            foreach (var p in group.Parameters)
            {
                using var scope = Backend.NewScope();
                var grad = p.Grad;
                if (grad == null) continue;
                if (!grad.IsSparse)
                    throw new InvalidOperationException("SparseAdam does not support dense gradients, please consider Adam instead.");
                var state = StateOf(p);
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

                var g = (maximize ? grad.Neg() : grad).Coalesce();   // the update is non-linear: indices must be unique
                var indices = g.SparseIndices();
                var values = g.SparseValues();
                if (indices.NumberOfElements == 0) continue;         // nothing to update; PyTorch adds empty tensors

                var oldExpAvgValues = expAvg.SparseMask(g).SparseValues();
                var expAvgUpdateValues = values.Sub(oldExpAvgValues).Mul_(1 - beta1);
                expAvg.Add_(g.NewSparse(indices, expAvgUpdateValues));
                var oldExpAvgSqValues = expAvgSq.SparseMask(g).SparseValues();
                var expAvgSqUpdateValues = values.Pow(2).Sub_(oldExpAvgSqValues).Mul_(1 - beta2);
                expAvgSq.Add_(g.NewSparse(indices, expAvgSqUpdateValues));

                var numer = expAvgUpdateValues.Add_(oldExpAvgValues);
                expAvgSqUpdateValues.Add_(oldExpAvgSqValues);
                var denom = expAvgSqUpdateValues.Sqrt_().Add_(eps);
                var biasCorrection1 = 1 - Math.Pow(beta1, step);
                var biasCorrection2 = 1 - Math.Pow(beta2, step);
                var stepSize = lr * Math.Sqrt(biasCorrection2) / biasCorrection1;
                p.Add_(g.NewSparse(indices, numer.Div_(denom).Mul_(-stepSize)));
            }
        }
    }
}
