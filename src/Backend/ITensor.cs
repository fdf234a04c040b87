namespace MLLrSched.Backend;

/// <summary>
/// A tensor as the training policies see it: the operations optimizers, EMA, gradient clipping and
/// the training loop need, with PyTorch's semantics. Backends implement it over their own tensors
/// (the native libtorch binding's <c>Tensor</c> implements it directly).
/// </summary>
/// <remarks>
/// Naming follows PyTorch with .NET casing: a trailing underscore marks an in-place operation
/// (<c>Mul_</c> is <c>mul_</c>), and in-place operations return the receiver itself so they chain
/// (<c>m.Mul_(beta1).Add_(g, 1 - beta1)</c>) without allocating. Every other operation returns a
/// new tensor the caller owns and must dispose (or create inside a backend scope).
/// </remarks>
public interface ITensor : IDisposable
{
    /// <summary>The backend that owns this tensor.</summary>
    IBackend Backend { get; }
    /// <summary>Sizes of each dimension.</summary>
    long[] Shape { get; }
    /// <summary>Number of dimensions.</summary>
    int Dim { get; }
    /// <summary>Total number of elements.</summary>
    long NumberOfElements { get; }
    /// <summary>Element type.</summary>
    DType DType { get; }
    /// <summary>Device holding the data.</summary>
    Device Device { get; }
    /// <summary>True for sparse COO tensors (e.g. the gradient of a sparse embedding).</summary>
    bool IsSparse { get; }

    // ---- autograd
    /// <summary>Whether autograd records operations on this tensor.</summary>
    bool RequiresGrad { get; set; }
    /// <summary>The accumulated gradient, or null (PyTorch's <c>None</c>). Setting null frees it.</summary>
    /// <remarks>The getter returns a new handle that shares the gradient's memory; dispose it after use.</remarks>
    ITensor? Grad { get; set; }
    /// <summary>Backpropagates from this (scalar) tensor, accumulating into the leaves' gradients.</summary>
    void Backward();

    // ---- copies and creation alike
    /// <summary>A tensor of zeros with this tensor's shape, dtype and device.</summary>
    ITensor ZerosLike();
    /// <summary>A tensor filled with <paramref name="value"/> with this tensor's shape, dtype and device.</summary>
    ITensor FullLike(double value);
    /// <summary>A copy of the data (autograd-tracked like PyTorch's <c>clone</c>).</summary>
    ITensor Clone();
    /// <summary>A view that shares data but is outside autograd.</summary>
    ITensor Detach();
    /// <summary>A copy converted to <paramref name="dtype"/> (the same tensor's data if already of that dtype).</summary>
    ITensor ToDType(DType dtype);
    /// <summary>This tensor's data on <paramref name="device"/>.</summary>
    ITensor ToDevice(Device device);
    /// <summary>A reshaped view or copy (PyTorch's <c>reshape</c>).</summary>
    ITensor Reshape(params long[] shape);
    /// <summary>A view of <paramref name="length"/> entries of dimension <paramref name="dim"/> from
    /// <paramref name="start"/> (PyTorch's <c>narrow</c>, i.e. <c>t[start:start+length]</c> along the dimension).</summary>
    ITensor Narrow(long dim, long start, long length);

    // ---- in place (return this)
    /// <summary>Copies <paramref name="source"/> (broadcast) into this tensor.</summary>
    ITensor Copy_(ITensor source);
    /// <summary>Sets every element to zero.</summary>
    ITensor Zero_();
    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    ITensor Fill_(double value);
    /// <summary>this += alpha * other.</summary>
    ITensor Add_(ITensor other, double alpha = 1);
    /// <summary>this += value.</summary>
    ITensor Add_(double value);
    /// <summary>this -= alpha * other.</summary>
    ITensor Sub_(ITensor other, double alpha = 1);
    /// <summary>this *= other.</summary>
    ITensor Mul_(ITensor other);
    /// <summary>this *= value.</summary>
    ITensor Mul_(double value);
    /// <summary>this /= other.</summary>
    ITensor Div_(ITensor other);
    /// <summary>this /= value.</summary>
    ITensor Div_(double value);
    /// <summary>this += value * t1 * t2.</summary>
    ITensor AddCMul_(ITensor t1, ITensor t2, double value = 1);
    /// <summary>this += value * t1 / t2.</summary>
    ITensor AddCDiv_(ITensor t1, ITensor t2, double value = 1);
    /// <summary>this += weight * (end - this).</summary>
    ITensor Lerp_(ITensor end, double weight);
    /// <summary>this = sqrt(this).</summary>
    ITensor Sqrt_();
    /// <summary>this = -this.</summary>
    ITensor Neg_();
    /// <summary>this = |this|.</summary>
    ITensor Abs_();
    /// <summary>this = sign(this).</summary>
    ITensor Sign_();
    /// <summary>this = this ^ exponent.</summary>
    ITensor Pow_(double exponent);
    /// <summary>Clamps into [min, max]; a null bound is not applied.</summary>
    ITensor Clamp_(double? min, double? max);
    /// <summary>this = max(this, other) elementwise.</summary>
    ITensor Maximum_(ITensor other);
    /// <summary>Sets elements where <paramref name="mask"/> is true to <paramref name="value"/>.</summary>
    ITensor MaskedFill_(ITensor mask, double value);

    // ---- out of place (new tensor)
    /// <summary>this + alpha * other.</summary>
    ITensor Add(ITensor other, double alpha = 1);
    /// <summary>this + value.</summary>
    ITensor Add(double value);
    /// <summary>this - alpha * other.</summary>
    ITensor Sub(ITensor other, double alpha = 1);
    /// <summary>this * other.</summary>
    ITensor Mul(ITensor other);
    /// <summary>this * value.</summary>
    ITensor Mul(double value);
    /// <summary>this / other.</summary>
    ITensor Div(ITensor other);
    /// <summary>this / value.</summary>
    ITensor Div(double value);
    /// <summary>Elementwise square root.</summary>
    ITensor Sqrt();
    /// <summary>Elementwise 1/sqrt.</summary>
    ITensor Rsqrt();
    /// <summary>Elementwise absolute value.</summary>
    ITensor Abs();
    /// <summary>Elementwise sign (-1, 0, 1).</summary>
    ITensor Sign();
    /// <summary>Elementwise negation.</summary>
    ITensor Neg();
    /// <summary>Elementwise square.</summary>
    ITensor Square();
    /// <summary>Elementwise e^x.</summary>
    ITensor Exp();
    /// <summary>Elementwise natural logarithm.</summary>
    ITensor Log();
    /// <summary>Elementwise power.</summary>
    ITensor Pow(double exponent);
    /// <summary>Elementwise maximum.</summary>
    ITensor Maximum(ITensor other);
    /// <summary>Elementwise minimum.</summary>
    ITensor Minimum(ITensor other);
    /// <summary>Clamps into [min, max]; a null bound is not applied.</summary>
    ITensor Clamp(double? min, double? max);
    /// <summary>Selects elements of this where <paramref name="condition"/> holds, else of <paramref name="other"/>.</summary>
    ITensor Where(ITensor condition, ITensor other);
    /// <summary>Boolean mask this &gt; value.</summary>
    ITensor Gt(double value);
    /// <summary>Boolean mask this &lt; value.</summary>
    ITensor Lt(double value);
    /// <summary>Boolean mask this == value.</summary>
    ITensor Eq(double value);
    /// <summary>Boolean mask of finite elements.</summary>
    ITensor IsFinite();

    // ---- reductions and linear algebra
    /// <summary>Sum of all elements (a 0-dim tensor).</summary>
    ITensor Sum();
    /// <summary>Sum over <paramref name="dims"/>.</summary>
    ITensor Sum(long[] dims, bool keepDim = false);
    /// <summary>Mean of all elements.</summary>
    ITensor Mean();
    /// <summary>Mean over <paramref name="dims"/>.</summary>
    ITensor Mean(long[] dims, bool keepDim = false);
    /// <summary>Largest element (a 0-dim tensor).</summary>
    ITensor Max();
    /// <summary>Vector p-norm of all elements (p may be infinity).</summary>
    ITensor Norm(double p = 2);
    /// <summary>Vector p-norm over <paramref name="dims"/>.</summary>
    ITensor Norm(double p, long[] dims, bool keepDim = false);
    /// <summary>Inner product of two 1-D tensors.</summary>
    ITensor Dot(ITensor other);
    /// <summary>Matrix product.</summary>
    ITensor MatMul(ITensor other);
    /// <summary>The value of a one-element tensor as a double.</summary>
    double Item();

    // ---- sparse (COO) support, for sparse gradients
    /// <summary>The coalesced form (duplicate indices summed).</summary>
    ITensor Coalesce();
    /// <summary>The indices of a sparse tensor ([ndim, nnz], int64).</summary>
    ITensor SparseIndices();
    /// <summary>The values of a sparse tensor.</summary>
    ITensor SparseValues();
    /// <summary>A sparse tensor holding this dense tensor's values at <paramref name="mask"/>'s indices.</summary>
    ITensor SparseMask(ITensor mask);
    /// <summary>A sparse tensor of this (dense) tensor's shape from indices and values.</summary>
    ITensor NewSparse(ITensor indices, ITensor values);
    /// <summary>The dense form of a sparse tensor.</summary>
    ITensor ToDense();

    // ---- host transfer
    /// <summary>The elements, row-major, as float32 (converted if needed).</summary>
    float[] ToFloatArray();
    /// <summary>The elements, row-major, as float64 (converted if needed).</summary>
    double[] ToDoubleArray();
    /// <summary>The raw bytes of the elements in their own dtype, row-major, copied to the host (what a PyTorch file
    /// stores): <see cref="NumberOfElements"/> × <see cref="DTypeInfo.ElementSize"/> bytes.</summary>
    byte[] ToBytes();

    /// <summary>
    /// Removes this tensor from the dispose scope that would free it, handing ownership to the caller
    /// (for state that outlives a step, such as optimizer moments). Returns this.
    /// </summary>
    ITensor DetachFromScope();
}
