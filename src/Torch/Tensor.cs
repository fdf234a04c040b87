using System.Runtime.InteropServices;
using MLLrSched.Backend;
using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

/// <summary>
/// A libtorch tensor. Owns one native handle, freed by <see cref="Dispose"/> or by the
/// <see cref="TensorScope"/> it was created in — deterministically, never by the garbage collector.
/// </summary>
/// <remarks>
/// Operation names follow PyTorch in .NET casing; a trailing underscore marks in-place operations,
/// which return this same object. Everything else returns a new tensor that the caller owns.
/// <para>
/// There is deliberately no finalizer: a finalizable object costs ~170 ns more to create than the whole
/// rest of a small op's managed overhead (measured by bench/MLLrSched.Bench.Binding), and native memory
/// must not wait for the GC anyway. A tensor that is neither disposed nor created inside a scope keeps its
/// native memory until the process exits; <see cref="LiveCount"/> makes such leaks visible in tests.
/// </para>
/// </remarks>
public sealed partial class Tensor : IDisposable
{
    private IntPtr _handle;
    private long[]? _shape;
    private int _dtype = -1;

    /// <summary>The scope that will dispose this tensor, or null.</summary>
    internal TensorScope? Scope;

    private static long _liveCount;

    internal Tensor(IntPtr handle)
    {
        _handle = handle;
        Interlocked.Increment(ref _liveCount);
        TensorScope.Register(this);
    }

    /// <summary>
    /// Number of <see cref="Tensor"/> objects created and not yet disposed, process-wide. Compare it before and
    /// after a piece of code to prove it releases every tensor it creates.
    /// </summary>
    public static long LiveCount => Interlocked.Read(ref _liveCount);

    /// <summary>Wraps a handle returned by the shim, throwing libtorch's error when it is null.</summary>
    internal static Tensor FromHandle(IntPtr handle) => new(NativeErrors.Check(handle));

    /// <summary>The native handle; throws <see cref="ObjectDisposedException"/> after disposal.</summary>
    internal IntPtr Handle
    {
        get
        {
            var h = _handle;
            if (h == IntPtr.Zero) ThrowDisposed();
            return h;
        }
    }

    private static void ThrowDisposed() =>
        throw new ObjectDisposedException(nameof(Tensor), "This tensor was disposed (explicitly or by the TensorScope it was created in); it can no longer be used.");

    /// <summary>True once the native memory has been released.</summary>
    public bool IsDisposed => _handle == IntPtr.Zero;

    /// <summary>Releases the native tensor now. Safe to call more than once.</summary>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h == IntPtr.Zero) return;
        N.mls_tensor_free(h);
        Interlocked.Decrement(ref _liveCount);
    }

    /// <summary>Removes this tensor from its scope; the caller now owns it. Returns this.</summary>
    public Tensor DetachFromScope()
    {
        Scope = null;
        return this;
    }

    /// <summary>Hands this tensor to the scope enclosing its current one (or detaches it when there is none).</summary>
    public Tensor MoveToOuterScope()
    {
        var outer = Scope?.Outer;
        Scope = null;
        outer?.Adopt(this);
        return this;
    }

    // ------------------------------------------------------------------ properties

    /// <summary>Sizes of each dimension (a fresh copy).</summary>
    public long[] Shape => (long[])ShapeCached.Clone();

    internal long[] ShapeCached
    {
        get
        {
            if (_shape != null) return _shape;
            var h = Handle;
            var n = N.mls_tensor_ndim(h);
            var s = new long[n];
            unsafe
            {
                fixed (long* p = s) NativeErrors.Check(N.mls_tensor_shape(h, p));
            }
            GC.KeepAlive(this);
            return _shape = s;
        }
    }

    /// <summary>Strides of each dimension, in elements.</summary>
    public long[] Strides
    {
        get
        {
            var h = Handle;
            var s = new long[N.mls_tensor_ndim(h)];
            unsafe
            {
                fixed (long* p = s) NativeErrors.Check(N.mls_tensor_strides(h, p));
            }
            GC.KeepAlive(this);
            return s;
        }
    }

    /// <summary>Number of dimensions.</summary>
    public int Dim => ShapeCached.Length;

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public long Size(int dim)
    {
        var s = ShapeCached;
        var d = dim < 0 ? dim + s.Length : dim;
        if (d < 0 || d >= s.Length)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"Dimension out of range for a tensor of {s.Length} dimensions.");
        return s[d];
    }

    /// <summary>Total number of elements.</summary>
    public long NumberOfElements
    {
        get
        {
            long n = 1;
            foreach (var d in ShapeCached) n *= d;
            return n;
        }
    }

    /// <summary>Element type.</summary>
    public DType DType
    {
        get
        {
            if (_dtype < 0)
            {
                _dtype = N.mls_tensor_dtype(Handle);
                GC.KeepAlive(this);
            }
            return (DType)_dtype;
        }
    }

    /// <summary>Device holding the data.</summary>
    public Device Device
    {
        get
        {
            N.mls_tensor_device(Handle, out var type, out var index);
            GC.KeepAlive(this);
            return new Device((DeviceType)type, type == 0 ? -1 : index);
        }
    }

    /// <summary>True for sparse COO tensors.</summary>
    public bool IsSparse
    {
        get
        {
            var r = N.mls_tensor_is_sparse(Handle) != 0;
            GC.KeepAlive(this);
            return r;
        }
    }

    /// <summary>True when the elements are laid out densely in row-major order.</summary>
    public bool IsContiguous
    {
        get
        {
            var r = N.mls_tensor_is_contiguous(Handle) != 0;
            GC.KeepAlive(this);
            return r;
        }
    }

    /// <summary>Offset of the first element in the underlying storage, in elements.</summary>
    public long StorageOffset
    {
        get
        {
            var r = N.mls_tensor_storage_offset(Handle);
            GC.KeepAlive(this);
            return r;
        }
    }

    /// <summary>A short description: shape, dtype, device (not the data; see <see cref="ToDataString"/>).</summary>
    public override string ToString() =>
        IsDisposed ? "Tensor(disposed)" : $"Tensor(shape=[{string.Join(", ", ShapeCached)}], dtype={DType.TorchName()}, device={Device})";

    /// <summary>libtorch's printout of the values, as C++ <c>operator&lt;&lt;</c> prints them.</summary>
    public string ToDataString()
    {
        var p = NativeErrors.Check(N.mls_tensor_to_string(Handle));
        GC.KeepAlive(this);
        return Marshal.PtrToStringUTF8(p) ?? "";
    }

    // ------------------------------------------------------------------ scalars out

    private (double D, long I) ItemRaw()
    {
        NativeErrors.Check(N.mls_tensor_item(Handle, out var d, out var i));
        GC.KeepAlive(this);
        return (d, i);
    }

    /// <summary>The value of a one-element tensor as a double.</summary>
    public double ToDouble() => ItemRaw().D;
    /// <summary>The value of a one-element tensor as a float.</summary>
    public float ToSingle() => (float)ItemRaw().D;
    /// <summary>The value of a one-element integral tensor as a long.</summary>
    public long ToInt64() => ItemRaw().I;
    /// <summary>The value of a one-element tensor as a bool.</summary>
    public bool ToBoolean() => ItemRaw().I != 0;

    // ------------------------------------------------------------------ host transfer

    /// <summary>Copies the elements (row-major) into a new array, converting to <typeparamref name="T"/>'s dtype if needed.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var want = DTypes.Of<T>();
        if (IsSparse)
        {
            using var dense = ToDense();
            return dense.ToArray<T>();
        }
        if (DType != want)
        {
            using var converted = To(want);
            return converted.ToArray<T>();
        }
        var result = new T[NumberOfElements];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>The raw bytes of the elements in this tensor's dtype, row-major (dense, on the host).</summary>
    public unsafe byte[] ToBytes()
    {
        if (IsSparse)
        {
            using var dense = ToDense();
            return dense.ToBytes();
        }
        var result = new byte[NumberOfElements * DType.ElementSize()];
        fixed (byte* p = result)
            NativeErrors.Check(N.mls_tensor_copy_to_host(Handle, p, result.LongLength));
        GC.KeepAlive(this);
        return result;
    }

    /// <summary>Copies the elements (row-major) into <paramref name="destination"/>; the dtype must match.</summary>
    public unsafe void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        if (DType != DTypes.Of<T>())
            throw new ArgumentException($"Tensor dtype {DType.TorchName()} does not match the destination element type {typeof(T).Name}.", nameof(destination));
        if (destination.Length != NumberOfElements)
            throw new ArgumentException($"Destination holds {destination.Length} elements; the tensor has {NumberOfElements}.", nameof(destination));
        fixed (T* p = destination)
            NativeErrors.Check(N.mls_tensor_copy_to_host(Handle, p, (long)destination.Length * sizeof(T)));
        GC.KeepAlive(this);
    }

    // ------------------------------------------------------------------ helpers for the op files

    private Tensor Unary(UnaryOp op)
    {
        var r = N.mls_unary((int)op, Handle);
        GC.KeepAlive(this);
        return FromHandle(r);
    }

    private Tensor Unary_(UnaryOp op)
    {
        NativeErrors.Check(N.mls_unary_((int)op, Handle));
        GC.KeepAlive(this);
        return this;
    }

    private Tensor Binary(BinaryOp op, Tensor other, double alpha = 1)
    {
        var r = N.mls_binary((int)op, Handle, other.Handle, NativeScalar.Of(alpha));
        GC.KeepAlive(this);
        GC.KeepAlive(other);
        return FromHandle(r);
    }

    private Tensor Binary_(BinaryOp op, Tensor other, double alpha = 1)
    {
        NativeErrors.Check(N.mls_binary_((int)op, Handle, other.Handle, NativeScalar.Of(alpha)));
        GC.KeepAlive(this);
        GC.KeepAlive(other);
        return this;
    }

    private Tensor BinaryScalar(BinaryOp op, NativeScalar s)
    {
        var r = N.mls_binary_scalar((int)op, Handle, s);
        GC.KeepAlive(this);
        return FromHandle(r);
    }

    private Tensor BinaryScalar_(BinaryOp op, NativeScalar s)
    {
        NativeErrors.Check(N.mls_binary_scalar_((int)op, Handle, s));
        GC.KeepAlive(this);
        return this;
    }

    /// <summary>A scalar in the kind that suits this tensor: integral for integer tensors, so
    /// <c>intTensor + 2</c> stays int64 as in PyTorch.</summary>
    private NativeScalar ScalarFor(double value) =>
        !DType.IsFloatingPoint() && DType != DType.Bool && value == Math.Floor(value) && Math.Abs(value) < 9.0e18
            ? NativeScalar.Of((long)value)
            : NativeScalar.Of(value);
}
