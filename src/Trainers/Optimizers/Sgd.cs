using MLLrSched.Backend;
using MLLrSched.Kernels;

namespace MLLrSched.Optimizers;

/// <summary>
/// Stochastic gradient descent with optional (Nesterov) momentum: PyTorch's <c>torch.optim.SGD</c>
/// (JSON type <c>SGD</c>), as of 1.13 or 2.x (<see cref="Optimizer.TorchSemantics"/>). Weight decay is L2 (added to the
/// gradient).
/// </summary>
/// <remarks>
/// Per parameter, with <c>g</c> the gradient (negated when <c>maximize</c>):
/// <c>g += weight_decay·p</c>; with momentum, <c>buf = g</c> on the first step, else
/// <c>buf = momentum·buf + (1 − dampening)·g</c>, and <c>g = nesterov ? g + momentum·buf : buf</c>;
/// finally <c>p −= lr·g</c>. State: <c>momentum_buffer</c>; while momentum is 0, PyTorch 1.13 stores it as None and 2.x
/// keeps no state at all. <c>lr</c> is required under 1.13 and defaults to 0.001 under 2.x.
/// </remarks>
public sealed class Sgd : Optimizer
{
    /// <summary>The arguments of <c>torch.optim.SGD</c>.</summary>
    public static readonly OptimizerSchema Arguments = new("SGD",
        HyperParameter.Number("lr", 1e-3, ValidRange.NonNegative, description: "learning rate").DefaultSince(TorchSemantics.Torch2),
        HyperParameter.Number("momentum", 0.0, ValidRange.NonNegative, description: "momentum factor"),
        HyperParameter.Number("dampening", 0.0, ValidRange.Any, description: "dampening for momentum"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "L2 penalty added to the gradient"),
        HyperParameter.Flag("nesterov", false, "Nesterov momentum (needs momentum > 0 and dampening = 0)"),
        HyperParameter.Flag("maximize", false, "maximize the objective instead of minimizing"));

    /// <summary>Creates SGD over one group of parameters. <paramref name="lr"/> may be left out under PyTorch 2.x semantics
    /// (0.001); under 1.13 it is required.</summary>
    public Sgd(IEnumerable<ITensor> parameters, double? lr = null, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(new[] { new ParamGroup(parameters) }, lr, momentum, dampening, weightDecay, nesterov, maximize, semantics) { }

    /// <summary>Creates SGD over parameter groups; a group's own settings override these defaults.</summary>
    public Sgd(IEnumerable<ParamGroup> groups, double? lr = null, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false, bool maximize = false, TorchSemantics semantics = TorchSemantics.Auto)
        : this(groups, Arguments.MakeDefaults(WithLr(lr, new Dictionary<string, object?>
        {
            ["momentum"] = momentum, ["dampening"] = dampening, ["weight_decay"] = weightDecay,
            ["nesterov"] = nesterov, ["maximize"] = maximize,
        })), semantics) { }

    /// <summary>Creates SGD from a defaults group built with <see cref="OptimizerSchema.MakeDefaults"/> (used by JSON specs).</summary>
    public Sgd(IEnumerable<ParamGroup> groups, ParamGroup defaults, TorchSemantics semantics = TorchSemantics.Auto)
        : base(groups, defaults, Arguments, semantics) { }

    private static Dictionary<string, object?> WithLr(double? lr, Dictionary<string, object?> values)
    {
        if (lr is { } v) values["lr"] = v;   // else: the version's default, or "required" (ApplyVersionDefaults)
        return values;
    }

    /// <inheritdoc />
    protected override void ValidateGroup(ParamGroup group, string where)
    {
        if (group.GetFlag("nesterov") && (group["momentum"] <= 0 || group["dampening"] != 0))
            throw new ArgumentException(
                $"{where}: nesterov momentum requires momentum > 0 and dampening = 0, got momentum {group["momentum"]} and dampening {group["dampening"]}.",
                "nesterov");
    }

    /// <inheritdoc />
    protected override void StepCore()
    {
        var fused = Fused<IFusedSgd>();
        var stateOnlyWithMomentum = Behaviour.SgdStateOnlyWithMomentum;
        foreach (var group in ParamGroups)
        {
            double lr = group["lr"], momentum = group["momentum"], dampening = group["dampening"], wd = group["weight_decay"];
            bool nesterov = group.GetFlag("nesterov"), maximize = group.GetFlag("maximize");
            ForEachGradient(group, (p, grad, state) =>
            {
                // PyTorch 1.13 writes back what it read: None when momentum is 0 and no buffer exists yet; 2.x leaves the
                // state alone while momentum is 0.
                if (momentum == 0 && !stateOnlyWithMomentum && !state.Contains("momentum_buffer")) state.SetNull("momentum_buffer");
                var buf = momentum != 0 ? state.TensorOrNull("momentum_buffer") : null;
                var first = momentum != 0 && buf == null;
                if (fused != null && !grad.IsSparse)
                {
                    var fusedBuf = first ? p.ZerosLike() : buf;
                    if (fused.TrySgd(p, grad, fusedBuf, lr, momentum, dampening, wd, nesterov, first, maximize))
                    {
                        if (first) state.Set("momentum_buffer", fusedBuf!);
                        return;
                    }
                }
                var d = maximize ? grad.Neg() : grad;
                if (wd != 0) d = d.Add(p, wd);
                if (momentum != 0)
                {
                    if (buf == null)
                    {
                        buf = d.Clone();
                        state.Set("momentum_buffer", buf);
                    }
                    else buf.Mul_(momentum).Add_(d, 1 - dampening);
                    d = nesterov ? d.Add(buf, momentum) : buf;
                }
                p.Add_(d, -lr);
            });
        }
    }
}
