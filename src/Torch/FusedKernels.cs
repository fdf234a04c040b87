using MLLrSched.Backend;
using MLLrSched.Kernels;
using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

/// <summary>
/// Single-pass CPU kernels for float32 contiguous tensors (native/src/fused_kernels.cpp). Anything else
/// (CUDA, float64, strided, sparse) answers false so the caller runs its tensor-op path.
/// </summary>
public sealed class FusedKernels : IFusedAdam, IFusedSgd, IFusedLion, IFusedRmsprop, IFusedAdagrad, IFusedEma
{
    /// <summary>The single instance.</summary>
    public static readonly FusedKernels Instance = new();

    /// <summary>Set to false to force the tensor-op paths everywhere (for comparisons and benchmarks).</summary>
    public static bool Enabled { get; set; } = true;

    private FusedKernels() { }

    private static bool Eligible(ITensor? t, out Tensor native)
    {
        native = (t as Tensor)!;
        return t is Tensor n && n.DType == DType.Float32 && !n.Device.IsCuda && !n.IsSparse && n.IsContiguous;
    }

    /// <inheritdoc />
    public bool TryAdam(ITensor param, ITensor grad, ITensor expAvg, ITensor expAvgSq, ITensor? maxExpAvgSq,
        double lr, double beta1, double beta2, double eps, double weightDecay, long step, bool decoupled, bool maximize,
        bool lerpFirstMoment, bool powBiasCorrection)
    {
        if (!Enabled || !Eligible(param, out var p) || !Eligible(grad, out var g) || !Eligible(expAvg, out var m)
            || !Eligible(expAvgSq, out var v)) return false;
        Tensor? vm = null;
        if (maxExpAvgSq != null && !Eligible(maxExpAvgSq, out vm)) return false;
        NativeErrors.Check(N.mls_fused_adam(p.Handle, g.Handle, m.Handle, v.Handle, vm?.Handle ?? IntPtr.Zero,
            lr, beta1, beta2, eps, weightDecay, step, decoupled ? 1 : 0, maximize ? 1 : 0,
            (lerpFirstMoment ? N.FusedLerpMoment : 0) | (powBiasCorrection ? N.FusedPowSqrt : 0)));
        GC.KeepAlive(p); GC.KeepAlive(g); GC.KeepAlive(m); GC.KeepAlive(v); GC.KeepAlive(vm);
        return true;
    }

    /// <inheritdoc />
    public bool TrySgd(ITensor param, ITensor grad, ITensor? momentumBuffer, double lr, double momentum, double dampening,
        double weightDecay, bool nesterov, bool firstStep, bool maximize)
    {
        if (!Enabled || !Eligible(param, out var p) || !Eligible(grad, out var g)) return false;
        Tensor? b = null;
        if (momentumBuffer != null && !Eligible(momentumBuffer, out b)) return false;
        NativeErrors.Check(N.mls_fused_sgd(p.Handle, g.Handle, b?.Handle ?? IntPtr.Zero, lr, momentum, dampening,
            weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0, maximize ? 1 : 0));
        GC.KeepAlive(p); GC.KeepAlive(g); GC.KeepAlive(b);
        return true;
    }

    /// <inheritdoc />
    public bool TryLion(ITensor param, ITensor grad, ITensor expAvg, double lr, double beta1, double beta2, double weightDecay)
    {
        if (!Enabled || !Eligible(param, out var p) || !Eligible(grad, out var g) || !Eligible(expAvg, out var m)) return false;
        NativeErrors.Check(N.mls_fused_lion(p.Handle, g.Handle, m.Handle, lr, beta1, beta2, weightDecay));
        GC.KeepAlive(p); GC.KeepAlive(g); GC.KeepAlive(m);
        return true;
    }

    /// <inheritdoc />
    public bool TryRmsprop(ITensor param, ITensor grad, ITensor squareAvg, ITensor? gradAvg, ITensor? momentumBuffer,
        double lr, double alpha, double eps, double weightDecay, double momentum, bool maximize, bool lerpGradAvg)
    {
        if (!Enabled || !Eligible(param, out var p) || !Eligible(grad, out var g) || !Eligible(squareAvg, out var sq)) return false;
        Tensor? ga = null, buf = null;
        if (gradAvg != null && !Eligible(gradAvg, out ga)) return false;
        if (momentumBuffer != null && !Eligible(momentumBuffer, out buf)) return false;
        NativeErrors.Check(N.mls_fused_rmsprop(p.Handle, g.Handle, sq.Handle, ga?.Handle ?? IntPtr.Zero, buf?.Handle ?? IntPtr.Zero,
            lr, alpha, eps, weightDecay, momentum, maximize ? 1 : 0, lerpGradAvg ? N.FusedLerpMoment : 0));
        GC.KeepAlive(p); GC.KeepAlive(g); GC.KeepAlive(sq); GC.KeepAlive(ga); GC.KeepAlive(buf);
        return true;
    }

    /// <inheritdoc />
    public bool TryAdagrad(ITensor param, ITensor grad, ITensor stateSum, double clr, double eps, double weightDecay, bool maximize)
    {
        if (!Enabled || !Eligible(param, out var p) || !Eligible(grad, out var g) || !Eligible(stateSum, out var s)) return false;
        NativeErrors.Check(N.mls_fused_adagrad(p.Handle, g.Handle, s.Handle, clr, eps, weightDecay, maximize ? 1 : 0));
        GC.KeepAlive(p); GC.KeepAlive(g); GC.KeepAlive(s);
        return true;
    }

    /// <inheritdoc />
    public unsafe bool TryEma(IReadOnlyList<ITensor> shadows, IReadOnlyList<ITensor> parameters, double decay)
    {
        if (!Enabled || shadows.Count != parameters.Count) return false;
        for (var i = 0; i < shadows.Count; i++)
            if (!Eligible(shadows[i], out _) || !Eligible(parameters[i], out _)) return false;
        var s = Tensor.Handles(NativeBackend.Natives(shadows));
        var p = Tensor.Handles(NativeBackend.Natives(parameters));
        fixed (IntPtr* ps = s)
        fixed (IntPtr* pp = p)
            NativeErrors.Check(N.mls_fused_ema(ps, pp, s.Length, decay));
        GC.KeepAlive(shadows);
        GC.KeepAlive(parameters);
        return true;
    }

    /// <summary>a = b + s·c over float32 CPU tensors (the STREAM triad), for bandwidth measurements.</summary>
    public static void StreamTriad(Tensor a, Tensor b, Tensor c, double s)
    {
        NativeErrors.Check(N.mls_stream_triad(a.Handle, b.Handle, c.Handle, s));
        GC.KeepAlive(a); GC.KeepAlive(b); GC.KeepAlive(c);
    }
}
