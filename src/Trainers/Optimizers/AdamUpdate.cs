using MLLrSched.Backend;
using MLLrSched.Kernels;

namespace MLLrSched.Optimizers;

/// <summary>The per-parameter step Adam and AdamW share (torch 1.13 <c>_single_tensor_adam(w)</c>).</summary>
internal static class AdamUpdate
{
    public static void Step(IFusedAdam? fused, ParamGroup group, ITensor p, ITensor grad,
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

        if (fused != null && fused.TryAdam(p, grad, expAvg, expAvgSq, maxExpAvgSq, lr, beta1, beta2, eps, wd, step, decoupled, maximize))
            return;

        var g = maximize ? grad.Neg() : grad;
        if (decoupled) p.Mul_(1 - lr * wd);
        else if (wd != 0) g = g.Add(p, wd);
        expAvg.Mul_(beta1).Add_(g, 1 - beta1);
        expAvgSq.Mul_(beta2).AddCMul_(g, g, 1 - beta2);
        // The Python-float scalars of the 1.13 source (step is a float tensor there; .item() gives an exact double).
        var biasCorrection1 = 1 - Math.Pow(beta1, step);
        var biasCorrection2 = 1 - Math.Pow(beta2, step);
        var stepSize = lr / biasCorrection1;
        var biasCorrection2Sqrt = Math.Sqrt(biasCorrection2);
        ITensor denom;
        if (amsgrad)
        {
            maxExpAvgSq!.Maximum_(expAvgSq);
            denom = maxExpAvgSq.Sqrt().Div_(biasCorrection2Sqrt).Add_(eps);
        }
        else denom = expAvgSq.Sqrt().Div_(biasCorrection2Sqrt).Add_(eps);
        p.AddCDiv_(expAvg, denom, -stepSize);
    }
}
