namespace MLLrSched.Optimizers;

/// <summary>
/// A scalar as PyTorch's Python code holds it: a Python float (double) or a 0-dim float32 tensor. Mixed arithmetic
/// follows PyTorch: once a tensor is involved the operation runs in float32 with the double cast to float, and
/// <c>float / tensor</c> is <c>tensor.reciprocal() * float</c> (Tensor.__rtruediv__). Comparisons with a tensor are
/// float32 comparisons. LBFGS's line search branches on such values, so matching them keeps its decisions identical.
/// </summary>
internal readonly record struct TorchScalar(double Value, bool IsTensor)
{
    public static TorchScalar Py(double v) => new(v, false);
    public static TorchScalar F32(float v) => new(v, true);
    public static TorchScalar F32(double v) => new((float)v, true);

    private float F => (float)Value;

    public static TorchScalar operator +(TorchScalar a, TorchScalar b) =>
        a.IsTensor || b.IsTensor ? F32((float)(a.F + b.F)) : Py(a.Value + b.Value);

    public static TorchScalar operator -(TorchScalar a, TorchScalar b) =>
        a.IsTensor || b.IsTensor ? F32((float)(a.F - b.F)) : Py(a.Value - b.Value);

    public static TorchScalar operator *(TorchScalar a, TorchScalar b) =>
        a.IsTensor || b.IsTensor ? F32((float)(a.F * b.F)) : Py(a.Value * b.Value);

    public static TorchScalar operator /(TorchScalar a, TorchScalar b)
    {
        if (!a.IsTensor && b.IsTensor) return F32((float)((float)(1f / b.F) * a.F));
        return a.IsTensor || b.IsTensor ? F32((float)(a.F / b.F)) : Py(a.Value / b.Value);
    }

    public static TorchScalar operator -(TorchScalar a) => a.IsTensor ? F32(-a.F) : Py(-a.Value);

    public static bool operator <(TorchScalar a, TorchScalar b) => a.IsTensor || b.IsTensor ? a.F < b.F : a.Value < b.Value;
    public static bool operator >(TorchScalar a, TorchScalar b) => a.IsTensor || b.IsTensor ? a.F > b.F : a.Value > b.Value;
    public static bool operator <=(TorchScalar a, TorchScalar b) => a.IsTensor || b.IsTensor ? a.F <= b.F : a.Value <= b.Value;
    public static bool operator >=(TorchScalar a, TorchScalar b) => a.IsTensor || b.IsTensor ? a.F >= b.F : a.Value >= b.Value;

    public static implicit operator TorchScalar(double v) => Py(v);

    /// <summary>Python's abs().</summary>
    public TorchScalar Abs() => IsTensor ? F32(MathF.Abs(F)) : Py(Math.Abs(Value));

    /// <summary>x ** 2.</summary>
    public TorchScalar Square() => IsTensor ? F32((float)(F * F)) : Py(Value * Value);

    /// <summary>tensor.sqrt().</summary>
    public TorchScalar Sqrt() => IsTensor ? F32(MathF.Sqrt(F)) : Py(Math.Sqrt(Value));

    /// <summary>Python's max(a, b): a unless b &gt; a.</summary>
    public static TorchScalar Max(TorchScalar a, TorchScalar b) => b > a ? b : a;

    /// <summary>Python's min(a, b): a unless b &lt; a.</summary>
    public static TorchScalar Min(TorchScalar a, TorchScalar b) => b < a ? b : a;
}
