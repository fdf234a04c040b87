using MLLrSched.Backend;

namespace MLLrSched.Training;

/// <summary>
/// Gradient clipping with PyTorch's semantics, applied to the accumulated <c>.grad</c> of each parameter.
/// </summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients together so their joint <paramref name="normType"/>-norm is at most
    /// <paramref name="maxNorm"/> — <c>torch.nn.utils.clip_grad_norm_</c>, op for op: the total norm is the norm of the
    /// per-gradient norms (the largest absolute value for ∞), the scale is <c>clamp(maxNorm / (total + 1e-6), max: 1)</c>.
    /// </summary>
    /// <returns>The total norm before clipping (∞ or NaN when a gradient is non-finite and the check is off); 0 when no parameter has a gradient.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is negative or NaN, or <paramref name="normType"/> is not positive.</exception>
    /// <exception cref="NonFiniteGradientException">The total norm is NaN or infinite and <paramref name="errorIfNonfinite"/> is set.</exception>
    public static double ClipGradNorm(IEnumerable<ITensor> parameters, double maxNorm, double normType = 2.0, bool errorIfNonfinite = false)
    {
        if (!(maxNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "max_norm must be ≥ 0.");
        if (!(normType > 0)) throw new ArgumentOutOfRangeException(nameof(normType), normType, "norm_type must be > 0 (or infinity).");
        var grads = Grads(parameters);
        try
        {
            if (grads.Count == 0) return 0;
            var backend = grads[0].Backend;
            using var total = TotalNorm(backend, grads, normType);
            var value = total.Item();
            if (errorIfNonfinite && !double.IsFinite(value))
                throw new NonFiniteGradientException(
                    $"The total norm of order {normType} for gradients is non-finite ({value}), so it cannot be clipped. " +
                    "Set the non-finite policy to 'skip' to drop such steps, or lower the learning rate.");
            // clip_coef = max_norm / (total_norm + 1e-6), computed on the tensor as PyTorch does.
            using var denom = total.Add(1e-6);
            using var inv = denom.Pow(-1);
            using var coef = inv.Mul(maxNorm);
            using var clamped = coef.Clamp(null, 1.0);
            // PyTorch multiplies even by a coefficient of exactly 1 (a no-op), to avoid a device sync; the value is on
            // the host here anyway, and skipping the no-op leaves every gradient bit for bit as it would be.
            if (clamped.Item() != 1.0)
                foreach (var g in grads) g.Mul_(clamped);
            return value;
        }
        finally
        {
            foreach (var g in grads) g.Dispose();
        }
    }

    /// <summary>The joint norm of the gradients without changing them (for logging).</summary>
    public static double GradNorm(IEnumerable<ITensor> parameters, double normType = 2.0)
    {
        var grads = Grads(parameters);
        try
        {
            if (grads.Count == 0) return 0;
            using var total = TotalNorm(grads[0].Backend, grads, normType);
            return total.Item();
        }
        finally
        {
            foreach (var g in grads) g.Dispose();
        }
    }

    /// <summary>Clamps every gradient element into [-clipValue, clipValue] (<c>clip_grad_value_</c>).</summary>
    public static void ClipGradValue(IEnumerable<ITensor> parameters, double clipValue)
    {
        if (!(clipValue >= 0)) throw new ArgumentOutOfRangeException(nameof(clipValue), clipValue, "clip_value must be ≥ 0.");
        foreach (var g in Grads(parameters))
            using (g) g.Clamp_(-clipValue, clipValue);
    }

    /// <summary>
    /// Adaptive gradient clipping (Brock et al. 2021, as timm's <c>adaptive_clip_grad</c>): each output unit's gradient
    /// norm is limited to <paramref name="clipFactor"/> × max(unit weight norm, <paramref name="eps"/>). Norms are taken per
    /// row (dim 0 = output unit) for matrices and kernels, over the whole tensor for vectors.
    /// </summary>
    public static void AdaptiveClipGrad(IEnumerable<ITensor> parameters, double clipFactor = 0.01, double eps = 1e-3, double normType = 2.0)
    {
        if (!(clipFactor > 0)) throw new ArgumentOutOfRangeException(nameof(clipFactor), clipFactor, "clip_factor must be > 0.");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be ≥ 0.");
        foreach (var p in parameters)
        {
            using var g = p.Grad;
            if (g == null) continue;
            using var pd = p.Detach();
            using var maxNorm = UnitwiseNorm(pd, normType);
            maxNorm.Clamp_(eps, null).Mul_(clipFactor);
            using var gradNorm = UnitwiseNorm(g, normType);
            using var safe = gradNorm.Clamp(1e-6, null);
            using var ratio = maxNorm.Div(safe);
            using var clipped = g.Mul(ratio);
            using var keep = gradNorm.Sub(maxNorm);          // grad_norm < max_norm  ⇔  grad_norm - max_norm < 0
            using var mask = keep.Lt(0);
            using var result = g.Where(mask, clipped);
            g.Copy_(result);
        }
    }

    private static ITensor UnitwiseNorm(ITensor x, double p)
    {
        if (x.Dim <= 1) return x.Norm(p);
        var dims = Enumerable.Range(1, x.Dim - 1).Select(d => (long)d).ToArray();
        return x.Norm(p, dims, keepDim: true);
    }

    private static ITensor TotalNorm(IBackend backend, List<ITensor> grads, double normType)
    {
        ITensor[]? norms = null;
        try
        {
            if (double.IsPositiveInfinity(normType))
            {
                norms = new ITensor[grads.Count];
                for (var i = 0; i < grads.Count; i++)
                {
                    using var a = grads[i].Abs();
                    norms[i] = a.Max();
                }
            }
            else norms = backend.ForeachNorm(grads, normType);     // the same per-tensor vector norms, in one call
            if (norms.Length == 1) return norms[0].Clone();
            using var stacked = backend.Stack(norms, 0);
            return double.IsPositiveInfinity(normType) ? stacked.Max() : stacked.Norm(normType);
        }
        finally
        {
            if (norms != null)
                foreach (var n in norms) n?.Dispose();
        }
    }

    private static List<ITensor> Grads(IEnumerable<ITensor> parameters)
    {
        var list = new List<ITensor>();
        foreach (var p in parameters)
            if (p.Grad is { } g) list.Add(g);
        return list;
    }
}

/// <summary>A gradient (or loss) is NaN or infinite where the policy says to stop.</summary>
public sealed class NonFiniteGradientException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NonFiniteGradientException(string message) : base(message) { }
}
