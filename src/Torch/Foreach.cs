using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

/// <summary>
/// libtorch's multi-tensor ("foreach") ops: one call applies the op to every tensor of a list (PyTorch's
/// <c>torch._foreach_*</c>). In-place variants end in an underscore. On the CPU they are mostly a convenience; on CUDA
/// they fuse many small kernel launches.
/// </summary>
public static class Foreach
{
    private static unsafe void InPlace(ForeachInPlaceOp op, IReadOnlyList<Tensor> a, IReadOnlyList<Tensor>? b, IReadOnlyList<Tensor>? c, double scalar)
    {
        if (b != null && b.Count != a.Count) throw new ArgumentException($"Foreach: the lists have {a.Count} and {b.Count} tensors; they must match.");
        if (c != null && c.Count != a.Count) throw new ArgumentException($"Foreach: the lists have {a.Count} and {c.Count} tensors; they must match.");
        var ha = Tensor.Handles(a);
        var hb = b == null ? null : Tensor.Handles(b);
        var hc = c == null ? null : Tensor.Handles(c);
        fixed (IntPtr* pa = ha)
        fixed (IntPtr* pb = hb)
        fixed (IntPtr* pc = hc)
            NativeErrors.Check(N.mls_foreach_((int)op, pa, pb, pc, ha.Length, scalar));
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
    }

    private static unsafe Tensor[] OutOfPlace(ForeachOp op, IReadOnlyList<Tensor> a, IReadOnlyList<Tensor>? b, double scalar)
    {
        if (b != null && b.Count != a.Count) throw new ArgumentException($"Foreach: the lists have {a.Count} and {b.Count} tensors; they must match.");
        var ha = Tensor.Handles(a);
        var hb = b == null ? null : Tensor.Handles(b);
        var output = new IntPtr[ha.Length];
        fixed (IntPtr* pa = ha)
        fixed (IntPtr* pb = hb)
        fixed (IntPtr* po = output)
            NativeErrors.Check(N.mls_foreach((int)op, pa, pb, ha.Length, scalar, po));
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        return output.Select(Tensor.FromHandle).ToArray();
    }

    /// <summary>a[i] += alpha · b[i].</summary>
    public static void Add_(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b, double alpha = 1) => InPlace(ForeachInPlaceOp.AddList, a, b, null, alpha);
    /// <summary>a[i] += value.</summary>
    public static void Add_(IReadOnlyList<Tensor> a, double value) => InPlace(ForeachInPlaceOp.AddScalar, a, null, null, value);
    /// <summary>a[i] *= b[i].</summary>
    public static void Mul_(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b) => InPlace(ForeachInPlaceOp.MulList, a, b, null, 0);
    /// <summary>a[i] *= value.</summary>
    public static void Mul_(IReadOnlyList<Tensor> a, double value) => InPlace(ForeachInPlaceOp.MulScalar, a, null, null, value);
    /// <summary>a[i] /= b[i].</summary>
    public static void Div_(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b) => InPlace(ForeachInPlaceOp.DivList, a, b, null, 0);
    /// <summary>a[i] /= value.</summary>
    public static void Div_(IReadOnlyList<Tensor> a, double value) => InPlace(ForeachInPlaceOp.DivScalar, a, null, null, value);
    /// <summary>a[i] += value · t1[i] · t2[i].</summary>
    public static void AddCMul_(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> t1, IReadOnlyList<Tensor> t2, double value = 1) =>
        InPlace(ForeachInPlaceOp.AddCMul, a, t1, t2, value);
    /// <summary>a[i] += value · t1[i] / t2[i].</summary>
    public static void AddCDiv_(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> t1, IReadOnlyList<Tensor> t2, double value = 1) =>
        InPlace(ForeachInPlaceOp.AddCDiv, a, t1, t2, value);
    /// <summary>a[i] = max(a[i], b[i]).</summary>
    public static void Maximum_(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b) => InPlace(ForeachInPlaceOp.MaximumList, a, b, null, 0);
    /// <summary>a[i] = sqrt(a[i]).</summary>
    public static void Sqrt_(IReadOnlyList<Tensor> a) => InPlace(ForeachInPlaceOp.Sqrt, a, null, null, 0);
    /// <summary>a[i] = -a[i].</summary>
    public static void Neg_(IReadOnlyList<Tensor> a) => InPlace(ForeachInPlaceOp.Neg, a, null, null, 0);
    /// <summary>a[i] = 0.</summary>
    public static void Zero_(IReadOnlyList<Tensor> a) => InPlace(ForeachInPlaceOp.Zero, a, null, null, 0);

    /// <summary>sqrt of each tensor (new tensors).</summary>
    public static Tensor[] Sqrt(IReadOnlyList<Tensor> a) => OutOfPlace(ForeachOp.Sqrt, a, null, 0);
    /// <summary>|x| of each tensor.</summary>
    public static Tensor[] Abs(IReadOnlyList<Tensor> a) => OutOfPlace(ForeachOp.Abs, a, null, 0);
    /// <summary>The p-norm of each tensor (0-dim tensors).</summary>
    public static Tensor[] Norm(IReadOnlyList<Tensor> a, double p = 2) => OutOfPlace(ForeachOp.Norm, a, null, p);
    /// <summary>a[i] + alpha · b[i].</summary>
    public static Tensor[] Add(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b, double alpha = 1) => OutOfPlace(ForeachOp.AddList, a, b, alpha);
    /// <summary>a[i] · value.</summary>
    public static Tensor[] Mul(IReadOnlyList<Tensor> a, double value) => OutOfPlace(ForeachOp.MulScalar, a, null, value);
    /// <summary>a[i] / b[i].</summary>
    public static Tensor[] Div(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b) => OutOfPlace(ForeachOp.DivList, a, b, 0);
}
