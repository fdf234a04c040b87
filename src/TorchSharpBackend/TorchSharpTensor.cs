using MLLrSched.Backend;
using TorchSharp;
using TorchTensor = TorchSharp.torch.Tensor;

namespace MLLrSched.TorchSharpBackend;

/// <summary>
/// A TorchSharp <see cref="torch.Tensor"/> seen through the seam (<see cref="ITensor"/>), so every MLLrSched policy
/// (optimizers, EMA, clipping, the trainer) runs on it. Each operation maps to the TorchSharp call of the same PyTorch
/// name; results are new wrappers that own new TorchSharp tensors (created in the caller's dispose scope).
/// </summary>
public sealed class TorchSharpTensor : ITensor
{
    private readonly bool _owned;

    /// <summary>Wraps <paramref name="value"/>.</summary>
    /// <param name="value">The TorchSharp tensor.</param>
    /// <param name="owned">Whether disposing the wrapper disposes the tensor (false for a module's parameters and buffers).</param>
    public TorchSharpTensor(TorchTensor value, bool owned = true)
    {
        Value = value ?? throw new ArgumentNullException(nameof(value));
        _owned = owned;
    }

    /// <summary>The wrapped TorchSharp tensor.</summary>
    public TorchTensor Value { get; }

    private static TorchTensor T(ITensor t) => t is TorchSharpTensor ts ? ts.Value : throw new ArgumentException(
        $"A {t.GetType().Name} from backend '{t.Backend.Name}' was passed to a TorchSharp tensor operation; tensors of different backends cannot be mixed.");

    private static TorchSharpTensor W(TorchTensor t) => new(t);

    private ITensor Self(TorchTensor _) => this;

    /// <inheritdoc />
    public IBackend Backend => TorchSharpBackend.Instance;
    /// <inheritdoc />
    public long[] Shape => Value.shape;
    /// <inheritdoc />
    public int Dim => Value.shape.Length;
    /// <inheritdoc />
    public long NumberOfElements => Value.numel();
    /// <inheritdoc />
    public DType DType => TorchSharpConvert.FromTorch(Value.dtype);
    /// <inheritdoc />
    public Device Device => TorchSharpConvert.FromTorch(Value.device);
    /// <inheritdoc />
    public bool IsSparse => Value.is_sparse;

    /// <inheritdoc />
    public bool RequiresGrad { get => Value.requires_grad; set => Value.requires_grad = value; }

    /// <inheritdoc />
    /// <remarks>TorchSharp's <c>grad</c> getter makes a new handle to the gradient on every call (registered in the
    /// current dispose scope); the wrapper owns that handle, so disposing it frees the handle, not the gradient.</remarks>
    public ITensor? Grad
    {
        get => Value.grad is { } g ? W(g) : null;
        set => Value.grad = value is null ? null : T(value);
    }

    /// <inheritdoc />
    public void Backward() => Value.backward();

    /// <inheritdoc />
    public ITensor ZerosLike() => W(torch.zeros_like(Value));
    /// <inheritdoc />
    public ITensor FullLike(double value)
    {
        using var s = value.ToScalar();
        return W(torch.full_like(Value, s));
    }
    /// <inheritdoc />
    public ITensor Clone() => W(Value.clone());
    /// <inheritdoc />
    public ITensor Detach() => W(Value.detach());
    /// <inheritdoc />
    public ITensor ToDType(DType dtype) => W(Value.to_type(dtype.ToTorch()));
    /// <inheritdoc />
    public ITensor ToDevice(Device device) => W(Value.to(device.ToTorch()));
    /// <inheritdoc />
    public ITensor Reshape(params long[] shape) => W(Value.reshape(shape));
    /// <inheritdoc />
    public ITensor Narrow(long dim, long start, long length) => W(Value.narrow(dim, start, length));

    /// <inheritdoc />
    public ITensor Copy_(ITensor source) => Self(Value.copy_(T(source)));
    /// <inheritdoc />
    public ITensor Zero_()
    {
        // TorchSharp's zero_() zeroes in place but returns a NEW handle to this tensor (zeros_out): dispose it.
        var alias = Value.zero_();
        if (!ReferenceEquals(alias, Value)) alias.Dispose();
        return this;
    }
    /// <inheritdoc />
    public ITensor Fill_(double value)
    {
        using var s = value.ToScalar();
        return Self(Value.fill_(s));
    }
    /// <inheritdoc />
    public ITensor Add_(ITensor other, double alpha = 1)
    {
        if (alpha == 1) return Self(Value.add_(T(other), One));
        using var a = alpha.ToScalar();
        return Self(Value.add_(T(other), a));
    }
    /// <inheritdoc />
    public ITensor Add_(double value)
    {
        using var s = value.ToScalar();
        return Self(Value.add_(s, One));
    }
    // sub(x, alpha) is add(x, -alpha) bit for bit: negating alpha·x is exact.
    /// <inheritdoc />
    public ITensor Sub_(ITensor other, double alpha = 1)
    {
        if (alpha == 1) return Self(Value.sub_(T(other)));
        using var a = (-alpha).ToScalar();
        return Self(Value.add_(T(other), a));
    }
    /// <inheritdoc />
    public ITensor Mul_(ITensor other) => Self(Value.mul_(T(other)));
    /// <inheritdoc />
    public ITensor Mul_(double value)
    {
        using var s = value.ToScalar();
        return Self(Value.mul_(s));
    }
    /// <inheritdoc />
    public ITensor Div_(ITensor other) => Self(Value.div_(T(other)));
    /// <inheritdoc />
    public ITensor Div_(double value)
    {
        using var s = value.ToScalar();
        return Self(Value.div_(s));
    }
    /// <inheritdoc />
    public ITensor AddCMul_(ITensor t1, ITensor t2, double value = 1)
    {
        using var s = value.ToScalar();
        return Self(Value.addcmul_(T(t1), T(t2), s));
    }
    /// <inheritdoc />
    public ITensor AddCDiv_(ITensor t1, ITensor t2, double value = 1)
    {
        using var s = value.ToScalar();
        return Self(Value.addcdiv_(T(t1), T(t2), s));
    }
    /// <inheritdoc />
    public ITensor Lerp_(ITensor end, double weight)
    {
        using var w = torch.tensor(weight, Value.dtype, Value.device);
        return Self(Value.lerp_(T(end), w));
    }
    /// <inheritdoc />
    public ITensor Sqrt_() => Self(Value.sqrt_());
    /// <inheritdoc />
    public ITensor Neg_() => Self(Value.neg_());
    /// <inheritdoc />
    public ITensor Abs_() => Self(Value.abs_());
    /// <inheritdoc />
    public ITensor Sign_() => Self(Value.sign_());
    /// <inheritdoc />
    public ITensor Pow_(double exponent)
    {
        using var s = exponent.ToScalar();
        return Self(Value.pow_(s));
    }
    /// <inheritdoc />
    public ITensor Clamp_(double? min, double? max)
    {
        using var lo = Sc(min);
        using var hi = Sc(max);
        return Self(Value.clamp_(lo, hi));
    }
    /// <inheritdoc />
    public ITensor Maximum_(ITensor other)
    {
        using var m = Value.maximum(T(other));
        return Self(Value.copy_(m));
    }
    /// <inheritdoc />
    public ITensor MaskedFill_(ITensor mask, double value)
    {
        using var s = value.ToScalar();
        return Self(Value.masked_fill_(T(mask), s));
    }

    /// <inheritdoc />
    public ITensor Add(ITensor other, double alpha = 1)
    {
        if (alpha == 1) return W(Value.add(T(other), One));
        using var a = alpha.ToScalar();
        return W(Value.add(T(other), a));
    }
    /// <inheritdoc />
    public ITensor Add(double value)
    {
        using var s = value.ToScalar();
        return W(Value.add(s, One));
    }
    /// <inheritdoc />
    public ITensor Sub(ITensor other, double alpha = 1)
    {
        if (alpha == 1) return W(Value.sub(T(other)));
        using var a = (-alpha).ToScalar();
        return W(Value.add(T(other), a));
    }
    /// <inheritdoc />
    public ITensor Mul(ITensor other) => W(Value.mul(T(other)));
    /// <inheritdoc />
    public ITensor Mul(double value)
    {
        using var s = value.ToScalar();
        return W(Value.mul(s));
    }
    /// <inheritdoc />
    public ITensor Div(ITensor other) => W(Value.div(T(other)));
    /// <inheritdoc />
    public ITensor Div(double value)
    {
        using var s = value.ToScalar();
        return W(Value.div(s));
    }
    /// <inheritdoc />
    public ITensor Sqrt() => W(Value.sqrt());
    /// <inheritdoc />
    public ITensor Rsqrt() => W(Value.rsqrt());
    /// <inheritdoc />
    public ITensor Abs() => W(Value.abs());
    /// <inheritdoc />
    public ITensor Sign() => W(Value.sign());
    /// <inheritdoc />
    public ITensor Neg() => W(Value.neg());
    /// <inheritdoc />
    public ITensor Square() => W(Value.pow(Two));
    /// <inheritdoc />
    public ITensor Exp() => W(Value.exp());
    /// <inheritdoc />
    public ITensor Log() => W(Value.log());
    /// <inheritdoc />
    public ITensor Pow(double exponent)
    {
        using var s = exponent.ToScalar();
        return W(Value.pow(s));
    }
    /// <inheritdoc />
    public ITensor Maximum(ITensor other) => W(Value.maximum(T(other)));
    /// <inheritdoc />
    public ITensor Minimum(ITensor other) => W(Value.minimum(T(other)));
    /// <inheritdoc />
    public ITensor Clamp(double? min, double? max)
    {
        using var lo = Sc(min);
        using var hi = Sc(max);
        return W(Value.clamp(lo, hi));
    }
    /// <inheritdoc />
    public ITensor Where(ITensor condition, ITensor other) => W(Value.where(T(condition), T(other)));
    /// <inheritdoc />
    public ITensor Gt(double value)
    {
        using var s = value.ToScalar();
        return W(Value.gt(s));
    }
    /// <inheritdoc />
    public ITensor Lt(double value)
    {
        using var s = value.ToScalar();
        return W(Value.lt(s));
    }
    /// <inheritdoc />
    public ITensor Eq(double value)
    {
        using var s = value.ToScalar();
        return W(Value.eq(s));
    }
    /// <inheritdoc />
    public ITensor IsFinite() => W(Value.isfinite());

    /// <inheritdoc />
    public ITensor Sum() => W(Value.sum());
    /// <inheritdoc />
    public ITensor Sum(long[] dims, bool keepDim = false) => W(Value.sum(dims, keepDim));
    /// <inheritdoc />
    public ITensor Mean() => W(Value.mean());
    /// <inheritdoc />
    public ITensor Mean(long[] dims, bool keepDim = false) => W(Value.mean(dims, keepDim));
    /// <inheritdoc />
    public ITensor Max() => W(Value.max());
    /// <inheritdoc />
    public ITensor Norm(double p = 2) => W(torch.linalg.vector_norm(Value, p));
    /// <inheritdoc />
    public ITensor Norm(double p, long[] dims, bool keepDim = false) => W(torch.linalg.vector_norm(Value, p, dims, keepDim));
    /// <inheritdoc />
    public ITensor Dot(ITensor other) => W(Value.dot(T(other)));
    /// <inheritdoc />
    public ITensor MatMul(ITensor other) => W(Value.matmul(T(other)));
    /// <inheritdoc />
    public double Item()
    {
        using var d = Value.to_type(torch.ScalarType.Float64);
        return d.item<double>();
    }

    private static NotSupportedException NoSparse() =>
        new("Sparse gradients are not supported by the TorchSharp backend (SparseAdam and sparse embeddings need the native backend).");
    /// <inheritdoc />
    public ITensor Coalesce() => throw NoSparse();
    /// <inheritdoc />
    public ITensor SparseIndices() => throw NoSparse();
    /// <inheritdoc />
    public ITensor SparseValues() => throw NoSparse();
    /// <inheritdoc />
    public ITensor SparseMask(ITensor mask) => throw NoSparse();
    /// <inheritdoc />
    public ITensor NewSparse(ITensor indices, ITensor values) => throw NoSparse();
    /// <inheritdoc />
    public ITensor ToDense() => throw NoSparse();

    /// <inheritdoc />
    public float[] ToFloatArray() => HostCopy<float>(torch.ScalarType.Float32);
    /// <inheritdoc />
    public double[] ToDoubleArray() => HostCopy<double>(torch.ScalarType.Float64);

    /// <inheritdoc />
    public byte[] ToBytes()
    {
        if (Value.is_sparse) throw NoSparse();
        using var cpu = Value.cpu();
        using var dense = cpu.contiguous();
        // bytes is a span over the tensor's own memory: copy it out before the handles are disposed.
        return dense.numel() == 0 ? [] : dense.bytes.ToArray();
    }

    private T[] HostCopy<T>(torch.ScalarType type) where T : unmanaged
    {
        using var converted = Value.to_type(type);
        using var cpu = converted.cpu();
        using var dense = cpu.contiguous();
        return dense.data<T>().ToArray();
    }

    /// <inheritdoc />
    public ITensor DetachFromScope()
    {
        Value.DetachFromDisposeScope();
        return this;
    }

    private static Scalar? Sc(double? v) => v?.ToScalar();

    // TorchSharp turns each .NET number passed where it takes a Scalar into a native c10::Scalar that dispose scopes do
    // not track and only the finalizer frees; its add(t) / add_(t) / square() make such a Scalar (1, 2) on every call.
    // Every op here passes Scalars it disposes at once, or these two, which live as long as the process.
    private static readonly Scalar One = 1.ToScalar();
    private static readonly Scalar Two = 2.ToScalar();

    /// <inheritdoc />
    public void Dispose()
    {
        if (_owned) Value.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"TorchSharpTensor[{string.Join(", ", Shape)}] {DType.TorchName()} on {Device}";
}
