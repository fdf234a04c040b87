using MLLrSched.Backend;

namespace MLLrSched.Optimizers;

/// <summary>
/// Adafactor (Shazeer &amp; Stern 2018, <i>Adaptive Learning Rates with Sublinear Memory Cost</i>) with the semantics of
/// Hugging Face transformers' <c>transformers.optimization.Adafactor</c> (itself from fairseq; JSON type
/// <c>Adafactor</c>): factored second moments for matrices, relative step sizes, parameter-scale learning rates,
/// update clipping, optional first moment.
/// </summary>
/// <remarks>
/// Per parameter at step t: <c>ρ = min(warmup_init ? 1e-6·t : 1e-2, 1/√t)</c> when <c>relative_step</c>, else <c>lr</c>;
/// the step size is <c>ρ·max(eps[1], RMS(p))</c> with <c>scale_parameter</c>, else <c>ρ</c>.
/// <c>β2ₜ = 1 − t^decay_rate</c>; the second moment of <c>g² + eps[0]</c> is kept as row and column means for
/// tensors with two or more dimensions (over the last two), else in full; <c>u = g/√v̂</c>, divided by
/// <c>max(1, RMS(u)/clip_threshold)</c> and scaled by the step size; with <c>beta1</c>, <c>u</c> is averaged into
/// <c>exp_avg</c>; <c>p −= step_size·weight_decay·p</c>; <c>p −= u</c>.
/// State: <c>step</c>, <c>RMS</c>, <c>exp_avg_sq_row</c> and <c>exp_avg_sq_col</c> (factored) or <c>exp_avg_sq</c>,
/// <c>exp_avg</c> (with beta1).
/// </remarks>
public sealed class Adafactor : Optimizer
{
    /// <summary>The arguments of transformers' <c>Adafactor</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("Adafactor",
        HyperParameter.Number("lr", null, ValidRange.NonNegative, nullable: true,
            description: "external learning rate; must be null while relative_step is true"),
        HyperParameter.Pair("eps", "eps1", "eps2", (1e-30, 1e-3), ValidRange.NonNegative, ValidRange.NonNegative,
            "regularization of the squared gradient, and the minimum parameter scale"),
        HyperParameter.Number("clip_threshold", 1.0, ValidRange.Positive, description: "threshold of the update's root mean square"),
        HyperParameter.Number("decay_rate", -0.8, new ValidRange(null, false, 0), description: "exponent of the second-moment decay 1 − t^decay_rate"),
        HyperParameter.Number("beta1", null, ValidRange.UnitHalfOpen, nullable: true,
            description: "first-moment decay; null keeps no first moment"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "decay scaled by the step size"),
        HyperParameter.Flag("scale_parameter", true, "scale the step size by the parameter's RMS"),
        HyperParameter.Flag("relative_step", true, "use the time-dependent step size instead of lr"),
        HyperParameter.Flag("warmup_init", false, "warm the relative step size up linearly (needs relative_step)"));

    /// <summary>Creates Adafactor over one group of parameters.</summary>
    public Adafactor(IEnumerable<ITensor> parameters, double? lr = null, (double Eps1, double Eps2)? eps = null, double clipThreshold = 1.0,
        double decayRate = -0.8, double? beta1 = null, double weightDecay = 0, bool scaleParameter = true, bool relativeStep = true,
        bool warmupInit = false)
        : this(new[] { new ParamGroup(parameters) }, lr, eps, clipThreshold, decayRate, beta1, weightDecay, scaleParameter, relativeStep,
            warmupInit) { }

    /// <summary>Creates Adafactor over parameter groups; a group's own settings override these defaults.</summary>
    public Adafactor(IEnumerable<ParamGroup> groups, double? lr = null, (double Eps1, double Eps2)? eps = null, double clipThreshold = 1.0,
        double decayRate = -0.8, double? beta1 = null, double weightDecay = 0, bool scaleParameter = true, bool relativeStep = true,
        bool warmupInit = false)
        : this(groups, Arguments.MakeDefaults(new Dictionary<string, object?>
        {
            ["lr"] = lr, ["eps"] = eps ?? (1e-30, 1e-3), ["clip_threshold"] = clipThreshold, ["decay_rate"] = decayRate,
            ["beta1"] = beta1, ["weight_decay"] = weightDecay, ["scale_parameter"] = scaleParameter,
            ["relative_step"] = relativeStep, ["warmup_init"] = warmupInit,
        })) { }

    /// <summary>Creates Adafactor from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public Adafactor(IEnumerable<ParamGroup> groups, ParamGroup defaults) : base(groups, defaults, Arguments) { }

    /// <inheritdoc />
    protected override IReadOnlyList<(string Key, bool Integer)> TensorScalarState { get; } = new[] { ("RMS", false) };

    /// <inheritdoc />
    protected override void ValidateGroup(ParamGroup group, string where)
    {
        var relative = group.GetFlag("relative_step");
        // transformers checks this on the constructor's arguments only; groups (and schedules) may set lr later.
        if (group.Has("lr") && relative && group.Parameters.Count == 0)
            throw new ArgumentException($"{where}: cannot combine a manual lr with relative_step=true; set lr to null or relative_step to false.", "lr");
        if (!group.Has("lr") && !relative)
            throw new ArgumentException($"{where}: relative_step=false needs an lr.", "lr");
        if (group.GetFlag("warmup_init") && !relative)
            throw new ArgumentException($"{where}: warmup_init=true requires relative_step=true.", "warmup_init");
    }

    /// <inheritdoc />
    protected override long[]? ExpectedStateShape(ITensor parameter, string key, ITensor value)
    {
        var shape = parameter.Shape;
        return key switch
        {
            "exp_avg_sq_row" => shape[..^1],
            "exp_avg_sq_col" => shape[..^2].Append(shape[^1]).ToArray(),
            _ => base.ExpectedStateShape(parameter, key, value),
        };
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        foreach (var group in ParamGroups)
        {
            double eps1 = group["eps1"], eps2 = group["eps2"], clipThreshold = group["clip_threshold"], decayRate = group["decay_rate"];
            var wd = group["weight_decay"];
            var hasBeta1 = group.TryGet("beta1", out var beta1);
            ForEachDenseGradient(group, (p, grad, state) =>
            {
                var shape = grad.Shape;
                var factored = shape.Length >= 2;
                if (state.IsEmpty)
                {
                    state.Set("step", 0L);
                    if (hasBeta1) state.Set("exp_avg", grad.ZerosLike());
                    if (factored)
                    {
                        state.Set("exp_avg_sq_row", Backend.Zeros(shape[..^1], grad.DType, grad.Device));
                        state.Set("exp_avg_sq_col", Backend.Zeros(shape[..^2].Append(shape[^1]).ToArray(), grad.DType, grad.Device));
                    }
                    else state.Set("exp_avg_sq", grad.ZerosLike());
                    state.Set("RMS", 0.0);
                }
                var step = state.Long("step") + 1;
                state.Set("step", step);
                var rms = Rms(p);
                state.Set("RMS", (double)rms);
                var lr = StepSize(group, step, rms);

                var beta2t = 1.0 - Math.Pow(step, decayRate);
                var update = grad.Pow(2).Add_(eps1);
                if (factored)
                {
                    var row = state.Tensor("exp_avg_sq_row");
                    var col = state.Tensor("exp_avg_sq_col");
                    row.Mul_(beta2t).Add_(update.Mean(new[] { -1L }), 1.0 - beta2t);
                    col.Mul_(beta2t).Add_(update.Mean(new[] { -2L }), 1.0 - beta2t);
                    update = ApproxSqGrad(row, col).Mul_(grad);
                }
                else
                {
                    var v = state.Tensor("exp_avg_sq");
                    v.Mul_(beta2t).Add_(update, 1.0 - beta2t);
                    update = v.Rsqrt().Mul_(grad);
                }
                // (RMS(u) / clip_threshold).clamp_(min=1.0): 0-dim float32 arithmetic.
                update.Div_(Math.Max(Rms(update) / (float)clipThreshold, 1f));
                update.Mul_(lr.Value);
                if (hasBeta1)
                {
                    var expAvg = state.Tensor("exp_avg");
                    expAvg.Mul_(beta1).Add_(update, 1 - beta1);
                    update = expAvg;
                }
                if (wd != 0) p.Add_(p, (TorchScalar.Py(-wd) * lr).Value);
                p.Sub_(update);
            });
        }
    }

    /// <summary>The step size of transformers' <c>_get_lr</c>: a float32 scalar when the RMS won the max, else a double.</summary>
    private static TorchScalar StepSize(ParamGroup group, long step, float rms)
    {
        var relStepSize = group.TryGet("lr", out var lr) ? lr : 0.0;
        if (group.GetFlag("relative_step"))
        {
            var minStep = group.GetFlag("warmup_init") ? 1e-6 * step : 1e-2;
            relStepSize = Math.Min(minStep, 1.0 / Math.Sqrt(step));
        }
        var paramScale = TorchScalar.Py(1.0);
        if (group.GetFlag("scale_parameter"))
        {
            // Python's max(eps[1], RMS): RMS (a tensor) only when RMS > eps[1], compared in float32.
            var eps2 = group["eps2"];
            paramScale = TorchScalar.Max(TorchScalar.Py(eps2), TorchScalar.F32(rms));
        }
        return paramScale * TorchScalar.Py(relStepSize);
    }

    /// <summary>transformers' <c>_rms</c>: ‖x‖₂ / √numel as a float32 scalar.</summary>
    private static float Rms(ITensor x) => (float)x.Norm(2).Item() / (float)Math.Sqrt(x.NumberOfElements);

    /// <summary>The factored estimate: rsqrt(row / mean(row)) ⊗ rsqrt(col).</summary>
    private static ITensor ApproxSqGrad(ITensor row, ITensor col)
    {
        var rowShape = row.Shape;
        var colShape = col.Shape;
        var rFactor = row.Div(row.Mean(new[] { -1L }, keepDim: true)).Rsqrt()
            .Reshape(rowShape.Append(1L).ToArray());
        var cFactor = col.Rsqrt().Reshape(colShape[..^1].Append(1L).Append(colShape[^1]).ToArray());
        return rFactor.Mul(cFactor);
    }
}
