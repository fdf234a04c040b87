using MLLrSched.Backend;
using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

public sealed partial class Tensor
{
    // ------------------------------------------------------------------ unary
    /// <summary>-this.</summary>
    public Tensor Neg() => Unary(UnaryOp.Neg);
    /// <summary>|this|.</summary>
    public Tensor Abs() => Unary(UnaryOp.Abs);
    /// <summary>Square root.</summary>
    public Tensor Sqrt() => Unary(UnaryOp.Sqrt);
    /// <summary>1 / sqrt.</summary>
    public Tensor Rsqrt() => Unary(UnaryOp.Rsqrt);
    /// <summary>e^x.</summary>
    public Tensor Exp() => Unary(UnaryOp.Exp);
    /// <summary>Natural logarithm.</summary>
    public Tensor Log() => Unary(UnaryOp.Log);
    /// <summary>log(1 + x).</summary>
    public Tensor Log1p() => Unary(UnaryOp.Log1p);
    /// <summary>e^x - 1.</summary>
    public Tensor Expm1() => Unary(UnaryOp.Expm1);
    /// <summary>Sign (-1, 0, 1).</summary>
    public Tensor Sign() => Unary(UnaryOp.Sign);
    /// <summary>1 / x.</summary>
    public Tensor Reciprocal() => Unary(UnaryOp.Reciprocal);
    /// <summary>x².</summary>
    public Tensor Square() => Unary(UnaryOp.Square);
    /// <summary>Logistic sigmoid.</summary>
    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid);
    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh() => Unary(UnaryOp.Tanh);
    /// <summary>max(x, 0).</summary>
    public Tensor Relu() => Unary(UnaryOp.Relu);
    /// <summary>GELU (exact, erf form; PyTorch's default).</summary>
    public Tensor Gelu() => Unary(UnaryOp.Gelu);
    /// <summary>GELU, tanh approximation.</summary>
    public Tensor GeluTanh() => Unary(UnaryOp.GeluTanh);
    /// <summary>SiLU / swish: x * sigmoid(x).</summary>
    public Tensor Silu() => Unary(UnaryOp.Silu);
    /// <summary>Softplus: log(1 + e^x).</summary>
    public Tensor Softplus() => Unary(UnaryOp.Softplus);
    /// <summary>ELU with alpha 1.</summary>
    public Tensor Elu() => Unary(UnaryOp.Elu);
    /// <summary>Leaky ReLU with slope 0.01.</summary>
    public Tensor LeakyRelu() => Unary(UnaryOp.LeakyRelu);
    /// <summary>Mish: x * tanh(softplus(x)).</summary>
    public Tensor Mish() => Unary(UnaryOp.Mish);
    /// <summary>Hard swish.</summary>
    public Tensor Hardswish() => Unary(UnaryOp.Hardswish);
    /// <summary>Round down.</summary>
    public Tensor Floor() => Unary(UnaryOp.Floor);
    /// <summary>Round up.</summary>
    public Tensor Ceil() => Unary(UnaryOp.Ceil);
    /// <summary>Round half to even.</summary>
    public Tensor Round() => Unary(UnaryOp.Round);
    /// <summary>Round toward zero.</summary>
    public Tensor Trunc() => Unary(UnaryOp.Trunc);
    /// <summary>Sine.</summary>
    public Tensor Sin() => Unary(UnaryOp.Sin);
    /// <summary>Cosine.</summary>
    public Tensor Cos() => Unary(UnaryOp.Cos);
    /// <summary>Error function.</summary>
    public Tensor Erf() => Unary(UnaryOp.Erf);
    /// <summary>Base-2 logarithm.</summary>
    public Tensor Log2() => Unary(UnaryOp.Log2);
    /// <summary>Boolean mask of NaN elements.</summary>
    public Tensor IsNan() => Unary(UnaryOp.IsNan);
    /// <summary>Boolean mask of ±inf elements.</summary>
    public Tensor IsInf() => Unary(UnaryOp.IsInf);
    /// <summary>Boolean mask of finite elements.</summary>
    public Tensor IsFinite() => Unary(UnaryOp.IsFinite);
    /// <summary>Logical not.</summary>
    public Tensor LogicalNot() => Unary(UnaryOp.LogicalNot);

    /// <summary>In place: -this.</summary>
    public Tensor Neg_() => Unary_(UnaryOp.Neg);
    /// <summary>In place: |this|.</summary>
    public Tensor Abs_() => Unary_(UnaryOp.Abs);
    /// <summary>In place: square root.</summary>
    public Tensor Sqrt_() => Unary_(UnaryOp.Sqrt);
    /// <summary>In place: 1/sqrt.</summary>
    public Tensor Rsqrt_() => Unary_(UnaryOp.Rsqrt);
    /// <summary>In place: e^x.</summary>
    public Tensor Exp_() => Unary_(UnaryOp.Exp);
    /// <summary>In place: natural logarithm.</summary>
    public Tensor Log_() => Unary_(UnaryOp.Log);
    /// <summary>In place: sign.</summary>
    public Tensor Sign_() => Unary_(UnaryOp.Sign);
    /// <summary>In place: 1/x.</summary>
    public Tensor Reciprocal_() => Unary_(UnaryOp.Reciprocal);
    /// <summary>In place: x².</summary>
    public Tensor Square_() => Unary_(UnaryOp.Square);
    /// <summary>In place: sigmoid.</summary>
    public Tensor Sigmoid_() => Unary_(UnaryOp.Sigmoid);
    /// <summary>In place: tanh.</summary>
    public Tensor Tanh_() => Unary_(UnaryOp.Tanh);
    /// <summary>In place: ReLU.</summary>
    public Tensor Relu_() => Unary_(UnaryOp.Relu);
    /// <summary>In place: zero every element.</summary>
    public Tensor Zero_() => Unary_(UnaryOp.Zero);

    // ------------------------------------------------------------------ binary, tensor operand
    /// <summary>this + alpha * other.</summary>
    public Tensor Add(Tensor other, double alpha = 1) => Binary(BinaryOp.Add, other, alpha);
    /// <summary>this - alpha * other.</summary>
    public Tensor Sub(Tensor other, double alpha = 1) => Binary(BinaryOp.Sub, other, alpha);
    /// <summary>this * other.</summary>
    public Tensor Mul(Tensor other) => Binary(BinaryOp.Mul, other);
    /// <summary>this / other (true division).</summary>
    public Tensor Div(Tensor other) => Binary(BinaryOp.Div, other);
    /// <summary>floor(this / other).</summary>
    public Tensor FloorDivide(Tensor other) => Binary(BinaryOp.FloorDivide, other);
    /// <summary>this ^ other.</summary>
    public Tensor Pow(Tensor exponent) => Binary(BinaryOp.Pow, exponent);
    /// <summary>Elementwise maximum.</summary>
    public Tensor Maximum(Tensor other) => Binary(BinaryOp.Maximum, other);
    /// <summary>Elementwise minimum.</summary>
    public Tensor Minimum(Tensor other) => Binary(BinaryOp.Minimum, other);
    /// <summary>Elementwise remainder with the divisor's sign (Python's %).</summary>
    public Tensor Remainder(Tensor other) => Binary(BinaryOp.Remainder, other);
    /// <summary>atan2(this, other).</summary>
    public Tensor Atan2(Tensor other) => Binary(BinaryOp.Atan2, other);
    /// <summary>this == other.</summary>
    public Tensor Eq(Tensor other) => Binary(BinaryOp.Eq, other);
    /// <summary>this != other.</summary>
    public Tensor Ne(Tensor other) => Binary(BinaryOp.Ne, other);
    /// <summary>this &lt; other.</summary>
    public Tensor Lt(Tensor other) => Binary(BinaryOp.Lt, other);
    /// <summary>this &lt;= other.</summary>
    public Tensor Le(Tensor other) => Binary(BinaryOp.Le, other);
    /// <summary>this &gt; other.</summary>
    public Tensor Gt(Tensor other) => Binary(BinaryOp.Gt, other);
    /// <summary>this &gt;= other.</summary>
    public Tensor Ge(Tensor other) => Binary(BinaryOp.Ge, other);
    /// <summary>Logical and.</summary>
    public Tensor LogicalAnd(Tensor other) => Binary(BinaryOp.LogicalAnd, other);
    /// <summary>Logical or.</summary>
    public Tensor LogicalOr(Tensor other) => Binary(BinaryOp.LogicalOr, other);
    /// <summary>Matrix product with broadcasting (PyTorch's <c>matmul</c>).</summary>
    public Tensor MatMul(Tensor other) => Binary(BinaryOp.MatMul, other);
    /// <summary>2-D matrix product.</summary>
    public Tensor Mm(Tensor other) => Binary(BinaryOp.Mm, other);
    /// <summary>Batched matrix product.</summary>
    public Tensor Bmm(Tensor other) => Binary(BinaryOp.Bmm, other);
    /// <summary>Inner product of 1-D tensors.</summary>
    public Tensor Dot(Tensor other) => Binary(BinaryOp.Dot, other);
    /// <summary>Outer product of 1-D tensors.</summary>
    public Tensor Outer(Tensor other) => Binary(BinaryOp.Outer, other);

    /// <summary>In place: this += alpha * other.</summary>
    public Tensor Add_(Tensor other, double alpha = 1) => Binary_(BinaryOp.Add, other, alpha);
    /// <summary>In place: this -= alpha * other.</summary>
    public Tensor Sub_(Tensor other, double alpha = 1) => Binary_(BinaryOp.Sub, other, alpha);
    /// <summary>In place: this *= other.</summary>
    public Tensor Mul_(Tensor other) => Binary_(BinaryOp.Mul, other);
    /// <summary>In place: this /= other.</summary>
    public Tensor Div_(Tensor other) => Binary_(BinaryOp.Div, other);
    /// <summary>In place: this ^= other.</summary>
    public Tensor Pow_(Tensor exponent) => Binary_(BinaryOp.Pow, exponent);
    /// <summary>In place: max(this, other) (PyTorch's <c>torch.maximum(a, b, out=a)</c>).</summary>
    public Tensor Maximum_(Tensor other) => Binary_(BinaryOp.Maximum, other);
    /// <summary>In place: min(this, other).</summary>
    public Tensor Minimum_(Tensor other) => Binary_(BinaryOp.Minimum, other);

    // ------------------------------------------------------------------ binary, scalar operand
    /// <summary>this + value.</summary>
    public Tensor Add(double value) => BinaryScalar(BinaryOp.Add, ScalarFor(value));
    /// <summary>this - value.</summary>
    public Tensor Sub(double value) => BinaryScalar(BinaryOp.Sub, ScalarFor(value));
    /// <summary>this * value.</summary>
    public Tensor Mul(double value) => BinaryScalar(BinaryOp.Mul, ScalarFor(value));
    /// <summary>this / value.</summary>
    public Tensor Div(double value) => BinaryScalar(BinaryOp.Div, NativeScalar.Of(value));
    /// <summary>this ^ exponent.</summary>
    public Tensor Pow(double exponent) => BinaryScalar(BinaryOp.Pow, ScalarFor(exponent));
    /// <summary>value - this.</summary>
    public Tensor RSub(double value) => BinaryScalar(BinaryOp.Rsub, ScalarFor(value));
    /// <summary>Elementwise remainder (Python's %).</summary>
    public Tensor Remainder(double value) => BinaryScalar(BinaryOp.Remainder, ScalarFor(value));
    /// <summary>this == value.</summary>
    public Tensor Eq(double value) => BinaryScalar(BinaryOp.Eq, ScalarFor(value));
    /// <summary>this != value.</summary>
    public Tensor Ne(double value) => BinaryScalar(BinaryOp.Ne, ScalarFor(value));
    /// <summary>this &lt; value.</summary>
    public Tensor Lt(double value) => BinaryScalar(BinaryOp.Lt, ScalarFor(value));
    /// <summary>this &lt;= value.</summary>
    public Tensor Le(double value) => BinaryScalar(BinaryOp.Le, ScalarFor(value));
    /// <summary>this &gt; value.</summary>
    public Tensor Gt(double value) => BinaryScalar(BinaryOp.Gt, ScalarFor(value));
    /// <summary>this &gt;= value.</summary>
    public Tensor Ge(double value) => BinaryScalar(BinaryOp.Ge, ScalarFor(value));

    /// <summary>In place: this += value.</summary>
    public Tensor Add_(double value) => BinaryScalar_(BinaryOp.Add, ScalarFor(value));
    /// <summary>In place: this -= value.</summary>
    public Tensor Sub_(double value) => BinaryScalar_(BinaryOp.Sub, ScalarFor(value));
    /// <summary>In place: this *= value.</summary>
    public Tensor Mul_(double value) => BinaryScalar_(BinaryOp.Mul, ScalarFor(value));
    /// <summary>In place: this /= value.</summary>
    public Tensor Div_(double value) => BinaryScalar_(BinaryOp.Div, NativeScalar.Of(value));
    /// <summary>In place: this ^= exponent.</summary>
    public Tensor Pow_(double exponent) => BinaryScalar_(BinaryOp.Pow, ScalarFor(exponent));
    /// <summary>In place: this = value (every element).</summary>
    public Tensor Fill_(double value)
    {
        using var v = Full(Array.Empty<long>(), value, DType, Device);
        return Copy_(v);
    }

    /// <summary>base ^ this.</summary>
    public static Tensor Pow(double @base, Tensor exponent)
    {
        var r = N.mls_pow_scalar_base(@base, exponent.Handle);
        GC.KeepAlive(exponent);
        return FromHandle(r);
    }

    // ------------------------------------------------------------------ ternary
    /// <summary>this + value * t1 * t2.</summary>
    public Tensor AddCMul(Tensor t1, Tensor t2, double value = 1) => Ternary(N.mls_addcmul(Handle, t1.Handle, t2.Handle, value, 0), t1, t2, false);
    /// <summary>In place: this += value * t1 * t2.</summary>
    public Tensor AddCMul_(Tensor t1, Tensor t2, double value = 1) => Ternary(N.mls_addcmul(Handle, t1.Handle, t2.Handle, value, 1), t1, t2, true);
    /// <summary>this + value * t1 / t2.</summary>
    public Tensor AddCDiv(Tensor t1, Tensor t2, double value = 1) => Ternary(N.mls_addcdiv(Handle, t1.Handle, t2.Handle, value, 0), t1, t2, false);
    /// <summary>In place: this += value * t1 / t2.</summary>
    public Tensor AddCDiv_(Tensor t1, Tensor t2, double value = 1) => Ternary(N.mls_addcdiv(Handle, t1.Handle, t2.Handle, value, 1), t1, t2, true);
    /// <summary>this + weight * (end - this).</summary>
    public Tensor Lerp(Tensor end, double weight) => Ternary(N.mls_lerp(Handle, end.Handle, weight, IntPtr.Zero, 0), end, null, false);
    /// <summary>In place: this += weight * (end - this).</summary>
    public Tensor Lerp_(Tensor end, double weight) => Ternary(N.mls_lerp(Handle, end.Handle, weight, IntPtr.Zero, 1), end, null, true);
    /// <summary>this + weight * (end - this), elementwise weights.</summary>
    public Tensor Lerp(Tensor end, Tensor weight) => Ternary(N.mls_lerp(Handle, end.Handle, 0, weight.Handle, 0), end, weight, false);
    /// <summary>In place: this += weight * (end - this), elementwise weights.</summary>
    public Tensor Lerp_(Tensor end, Tensor weight) => Ternary(N.mls_lerp(Handle, end.Handle, 0, weight.Handle, 1), end, weight, true);

    private Tensor Ternary(IntPtr result, Tensor? a, Tensor? b, bool inPlace)
    {
        GC.KeepAlive(this);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        if (inPlace)
        {
            NativeErrors.Check(result);
            return this;
        }
        return FromHandle(result);
    }

    /// <summary>Clamps into [min, max]; a null bound is not applied.</summary>
    public Tensor Clamp(double? min = null, double? max = null) => ClampCore(min, max, false);
    /// <summary>In place: clamps into [min, max].</summary>
    public Tensor Clamp_(double? min = null, double? max = null) => ClampCore(min, max, true);

    private Tensor ClampCore(double? min, double? max, bool inPlace)
    {
        if (min == null && max == null) throw new ArgumentException("Clamp needs at least one of min and max.");
        var r = N.mls_clamp(Handle, min.HasValue ? 1 : 0, min ?? 0, max.HasValue ? 1 : 0, max ?? 0, inPlace ? 1 : 0);
        return Ternary(r, null, null, inPlace);
    }

    /// <summary>Elements of this where <paramref name="condition"/> holds, else of <paramref name="other"/>.</summary>
    public Tensor Where(Tensor condition, Tensor other)
    {
        var r = N.mls_where(condition.Handle, Handle, other.Handle);
        GC.KeepAlive(condition);
        return Ternary(r, other, null, false);
    }

    /// <summary>beta * this + alpha * (m1 @ m2).</summary>
    public Tensor AddMm(Tensor m1, Tensor m2, double beta = 1, double alpha = 1) =>
        Ternary(N.mls_addmm(Handle, m1.Handle, m2.Handle, beta, alpha), m1, m2, false);

    /// <summary>Replaces NaN and infinities with finite numbers.</summary>
    public Tensor NanToNum(double nan = 0, double? posInf = null, double? negInf = null)
    {
        var max = DType == DType.Float64 ? double.MaxValue : float.MaxValue;
        return Ternary(N.mls_nan_to_num(Handle, nan, posInf ?? max, negInf ?? -max), null, null, false);
    }

    /// <summary>True when shapes match and all elements are close (PyTorch's <c>allclose</c>).</summary>
    public bool AllClose(Tensor other, double rtol = 1e-5, double atol = 1e-8, bool equalNan = false)
    {
        var r = N.mls_allclose(Handle, other.Handle, rtol, atol, equalNan ? 1 : 0);
        GC.KeepAlive(this);
        GC.KeepAlive(other);
        if (r < 0) throw NativeErrors.Last();
        return r == 1;
    }

    /// <summary>True when shapes and all elements are equal.</summary>
    public bool Equal(Tensor other)
    {
        var r = N.mls_equal(Handle, other.Handle);
        GC.KeepAlive(this);
        GC.KeepAlive(other);
        if (r < 0) throw NativeErrors.Last();
        return r == 1;
    }

    // ------------------------------------------------------------------ reductions
    private unsafe Tensor Reduce(ReduceOp op, long[]? dims, bool keepDim, DType? dtype = null)
    {
        dims ??= Array.Empty<long>();
        fixed (long* p = dims)
        {
            var r = N.mls_reduce((int)op, Handle, p, dims.Length, keepDim ? 1 : 0, dtype.HasValue ? (int)dtype.Value : -1);
            GC.KeepAlive(this);
            return FromHandle(r);
        }
    }

    /// <summary>Sum of all elements.</summary>
    public Tensor Sum(DType? dtype = null) => Reduce(ReduceOp.Sum, null, false, dtype);
    /// <summary>Sum over dimensions.</summary>
    public Tensor Sum(long[] dims, bool keepDim = false, DType? dtype = null) => Reduce(ReduceOp.Sum, dims, keepDim, dtype);
    /// <summary>Mean of all elements.</summary>
    public Tensor Mean(DType? dtype = null) => Reduce(ReduceOp.Mean, null, false, dtype);
    /// <summary>Mean over dimensions.</summary>
    public Tensor Mean(long[] dims, bool keepDim = false, DType? dtype = null) => Reduce(ReduceOp.Mean, dims, keepDim, dtype);
    /// <summary>Largest element.</summary>
    public Tensor Max() => Reduce(ReduceOp.Amax, null, false);
    /// <summary>Smallest element.</summary>
    public Tensor Min() => Reduce(ReduceOp.Amin, null, false);
    /// <summary>Largest elements over dimensions.</summary>
    public Tensor Amax(long[] dims, bool keepDim = false) => Reduce(ReduceOp.Amax, dims, keepDim);
    /// <summary>Smallest elements over dimensions.</summary>
    public Tensor Amin(long[] dims, bool keepDim = false) => Reduce(ReduceOp.Amin, dims, keepDim);
    /// <summary>Product of all elements.</summary>
    public Tensor Prod() => Reduce(ReduceOp.Prod, null, false);
    /// <summary>True when every element is non-zero.</summary>
    public Tensor All() => Reduce(ReduceOp.All, null, false);
    /// <summary>True when any element is non-zero.</summary>
    public Tensor Any() => Reduce(ReduceOp.Any, null, false);
    /// <summary>log(sum(exp(x))) over dimensions.</summary>
    public Tensor LogSumExp(long[] dims, bool keepDim = false) => Reduce(ReduceOp.LogSumExp, dims, keepDim);
    /// <summary>Index of the largest element along <paramref name="dim"/> (flattened when null).</summary>
    public Tensor ArgMax(long? dim = null, bool keepDim = false) => Reduce(ReduceOp.ArgMax, dim.HasValue ? new[] { dim.Value } : null, keepDim);
    /// <summary>Index of the smallest element along <paramref name="dim"/> (flattened when null).</summary>
    public Tensor ArgMin(long? dim = null, bool keepDim = false) => Reduce(ReduceOp.ArgMin, dim.HasValue ? new[] { dim.Value } : null, keepDim);
    /// <summary>Variance (unbiased unless <paramref name="unbiased"/> is false).</summary>
    public Tensor Var(long[]? dims = null, bool unbiased = true, bool keepDim = false) => Reduce(unbiased ? ReduceOp.Var : ReduceOp.VarBiased, dims, keepDim);
    /// <summary>Standard deviation (unbiased unless <paramref name="unbiased"/> is false).</summary>
    public Tensor Std(long[]? dims = null, bool unbiased = true, bool keepDim = false) => Reduce(unbiased ? ReduceOp.Std : ReduceOp.StdBiased, dims, keepDim);
    /// <summary>Number of non-zero elements.</summary>
    public Tensor CountNonzero() => Reduce(ReduceOp.CountNonzero, null, false);

    /// <summary>Vector p-norm of all elements; p may be ±infinity.</summary>
    public unsafe Tensor Norm(double p = 2)
    {
        var r = N.mls_norm(Handle, p, null, 0, 0);
        GC.KeepAlive(this);
        return FromHandle(r);
    }

    /// <summary>Vector p-norm over dimensions.</summary>
    public unsafe Tensor Norm(double p, long[] dims, bool keepDim = false)
    {
        fixed (long* d = dims)
        {
            var r = N.mls_norm(Handle, p, d, dims.Length, keepDim ? 1 : 0);
            GC.KeepAlive(this);
            return FromHandle(r);
        }
    }

    /// <summary>Maximum along a dimension with its indices.</summary>
    public (Tensor Values, Tensor Indices) Max(long dim, bool keepDim = false) => ValuesIndices(0, dim, keepDim, 0);
    /// <summary>Minimum along a dimension with its indices.</summary>
    public (Tensor Values, Tensor Indices) Min(long dim, bool keepDim = false) => ValuesIndices(1, dim, keepDim, 0);
    /// <summary>Sorted values along a dimension with their original indices.</summary>
    public (Tensor Values, Tensor Indices) Sort(long dim = -1, bool descending = false) => ValuesIndices(descending ? 3 : 2, dim, false, 0);
    /// <summary>The k largest values along a dimension with their indices.</summary>
    public (Tensor Values, Tensor Indices) TopK(long k, long dim = -1) => ValuesIndices(4, dim, false, k);

    private (Tensor, Tensor) ValuesIndices(int op, long dim, bool keepDim, long extra)
    {
        NativeErrors.Check(N.mls_values_indices(op, Handle, dim, keepDim ? 1 : 0, extra, out var v, out var i));
        GC.KeepAlive(this);
        return (new Tensor(v), new Tensor(i));
    }

    // ------------------------------------------------------------------ operators
    /// <summary>Elementwise sum.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor a, double b) => a.Add(b);
    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(double a, Tensor b) => b.Add(a);
    /// <summary>Elementwise difference.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    /// <summary>Subtracts a scalar.</summary>
    public static Tensor operator -(Tensor a, double b) => a.Sub(b);
    /// <summary>Scalar minus tensor.</summary>
    public static Tensor operator -(double a, Tensor b) => b.RSub(a);
    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();
    /// <summary>Elementwise product.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    /// <summary>Scales by a scalar.</summary>
    public static Tensor operator *(Tensor a, double b) => a.Mul(b);
    /// <summary>Scales by a scalar.</summary>
    public static Tensor operator *(double a, Tensor b) => b.Mul(a);
    /// <summary>Elementwise quotient.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    /// <summary>Divides by a scalar.</summary>
    public static Tensor operator /(Tensor a, double b) => a.Div(b);
}
