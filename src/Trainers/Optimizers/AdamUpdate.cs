using MLLrSched.Backend;
using MLLrSched.Kernels;

namespace MLLrSched.Optimizers;

/// <summary>The per-parameter step Adam and AdamW share (<c>_single_tensor_adam(w)</c> of torch 1.13 and 2.x).</summary>
internal static class AdamUpdate
{
    public static void Step(IFusedAdam? fused, TorchBehaviour behaviour, ParamGroup group, ITensor p, ITensor grad,
        ParamState state, bool decoupled)
    {
        double lr = group["lr"], beta1 = group["beta1"], beta2 = group["beta2"], eps = group["eps"], wd = group["weight_decay"];
        bool amsgrad = group.GetFlag("amsgrad"), maximize = group.GetFlag("maximize");
        if (state.IsEmpty)
        {
            state.Set("step", 0L);
            state.Set("exp_avg", p.ZerosLike());
            state.Set("exp_avg_sq", p.ZerosLike());
            if (amsgrad) state.Set("max_exp_avg_sq", p.ZerosLike());
        }
        var expAvg = state.Tensor("exp_avg");
        var expAvgSq = state.Tensor("exp_avg_sq");
        var maxExpAvgSq = amsgrad ? state.Tensor("max_exp_avg_sq") : null;
        var step = state.Long("step") + 1;
        state.Set("step", step);

        if (fused != null && fused.TryAdam(p, grad, expAvg, expAvgSq, maxExpAvgSq, lr, beta1, beta2, eps, wd, step, decoupled, maximize,
                behaviour.LerpMoments, behaviour.PowSquareRoots))
            return;

        var g = maximize ? grad.Neg() : grad;
        if (decoupled) p.Mul_(1 - lr * wd);
        else if (wd != 0) g = g.Add(p, wd);
        FirstMoment(behaviour, expAvg, g, beta1);
        expAvgSq.Mul_(beta2).AddCMul_(g, g, 1 - beta2);
        // The Python-float scalars of the source (step is a float tensor there; .item() gives an exact double).
        var biasCorrection1 = 1 - Math.Pow(beta1, step);
        var biasCorrection2 = 1 - Math.Pow(beta2, step);
        var stepSize = lr / biasCorrection1;
        var biasCorrection2Sqrt = SquareRoot(behaviour, biasCorrection2);
        ITensor denom;
        if (amsgrad)
        {
            maxExpAvgSq!.Maximum_(expAvgSq);
            denom = maxExpAvgSq.Sqrt().Div_(biasCorrection2Sqrt).Add_(eps);
        }
        else denom = expAvgSq.Sqrt().Div_(biasCorrection2Sqrt).Add_(eps);
        p.AddCDiv_(expAvg, denom, -stepSize);
    }

    /// <summary>The first-moment update shared by the Adam family: 2.x <c>m.lerp_(g, 1 − β)</c>, 1.13
    /// <c>m.mul_(β).add_(g, alpha=1 − β)</c>.</summary>
    public static void FirstMoment(TorchBehaviour behaviour, ITensor m, ITensor g, double beta)
    {
        if (behaviour.LerpMoments) m.Lerp_(g, 1 - beta);
        else m.Mul_(beta).Add_(g, 1 - beta);
    }

    /// <summary>A Python-float square root: 2.x <c>x ** 0.5</c> (C <c>pow</c>, which .NET's Math.Pow calls too), 1.13
    /// <c>math.sqrt(x)</c>. The two differ in the last bit for some x.</summary>
    public static double SquareRoot(TorchBehaviour behaviour, double x) => behaviour.PowSquareRoots ? Math.Pow(x, 0.5) : Math.Sqrt(x);
}
