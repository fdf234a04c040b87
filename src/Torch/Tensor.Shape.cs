using MLLrSched.Backend;
using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

public sealed partial class Tensor
{
    private Tensor Wrap(IntPtr result)
    {
        GC.KeepAlive(this);
        return FromHandle(result);
    }

    // ------------------------------------------------------------------ copies and conversion
    /// <summary>A copy of the data (recorded by autograd, like PyTorch's <c>clone</c>).</summary>
    public Tensor Clone() => Wrap(N.mls_tensor_clone(Handle));
    /// <summary>A tensor sharing this one's data but outside the autograd graph.</summary>
    public Tensor Detach() => Wrap(N.mls_tensor_detach(Handle));
    /// <summary>A second handle to this very tensor (same data and autograd identity); dispose it independently.</summary>
    public Tensor Alias() => Wrap(N.mls_tensor_alias(Handle));
    /// <summary>A contiguous tensor with the same values (this data when already contiguous).</summary>
    public Tensor Contiguous() => Wrap(N.mls_tensor_contiguous(Handle));

    /// <summary>Converts to <paramref name="dtype"/>; shares data when already of that dtype unless <paramref name="copy"/>.</summary>
    public Tensor To(DType dtype, bool copy = false) => Wrap(N.mls_tensor_to(Handle, (int)dtype, -1, 0, copy ? 1 : 0));

    /// <summary>Moves to <paramref name="device"/>; shares data when already there unless <paramref name="copy"/>.</summary>
    /// <exception cref="TorchDeviceException">The device is not available (e.g. CUDA on a CPU-only libtorch).</exception>
    public Tensor To(Device device, bool copy = false)
    {
        Torch.ValidateDevice(device);
        return Wrap(N.mls_tensor_to(Handle, -1, (int)device.Type, device.Index, copy ? 1 : 0));
    }

    /// <summary>Moves to <paramref name="device"/> and converts to <paramref name="dtype"/>.</summary>
    public Tensor To(Device device, DType dtype, bool copy = false)
    {
        Torch.ValidateDevice(device);
        return Wrap(N.mls_tensor_to(Handle, (int)dtype, (int)device.Type, device.Index, copy ? 1 : 0));
    }

    /// <summary>In place: copies <paramref name="source"/> (broadcast, converted) into this tensor.</summary>
    public Tensor Copy_(Tensor source)
    {
        NativeErrors.Check(N.mls_tensor_copy_(Handle, source.Handle));
        GC.KeepAlive(this);
        GC.KeepAlive(source);
        return this;
    }

    /// <summary>
    /// In place: makes this tensor hold <paramref name="source"/>'s data (shape, dtype and device may change) while
    /// keeping its identity, like PyTorch's <c>param.data = source</c>. Used to move parameters between devices
    /// without breaking references held by optimizers.
    /// </summary>
    public Tensor SetData_(Tensor source)
    {
        NativeErrors.Check(N.mls_tensor_set_data(Handle, source.Handle));
        GC.KeepAlive(this);
        GC.KeepAlive(source);
        _shape = null;
        _dtype = -1;
        return this;
    }

    // ------------------------------------------------------------------ shape
    /// <summary>The same data with a new shape (a view when possible); one size may be -1.</summary>
    public unsafe Tensor Reshape(params long[] shape)
    {
        fixed (long* p = shape) return Wrap(N.mls_tensor_reshape(Handle, p, shape.Length));
    }

    /// <summary>A view with a new shape; fails for incompatible strides (use <see cref="Reshape"/>).</summary>
    public unsafe Tensor View(params long[] shape)
    {
        fixed (long* p = shape) return Wrap(N.mls_tensor_view(Handle, p, shape.Length));
    }

    /// <summary>A broadcast view to a larger shape (-1 keeps a size).</summary>
    public unsafe Tensor Expand(params long[] shape)
    {
        fixed (long* p = shape) return Wrap(N.mls_tensor_expand(Handle, p, shape.Length));
    }

    /// <summary>Reorders dimensions.</summary>
    public unsafe Tensor Permute(params long[] dims)
    {
        fixed (long* p = dims) return Wrap(N.mls_tensor_permute(Handle, p, dims.Length));
    }

    /// <summary>Swaps two dimensions.</summary>
    public Tensor Transpose(long dim0, long dim1) => Wrap(N.mls_tensor_transpose(Handle, dim0, dim1));
    /// <summary>Transpose of a 2-D tensor.</summary>
    public Tensor T => Transpose(0, 1);
    /// <summary>Removes all size-1 dimensions.</summary>
    public Tensor Squeeze() => Wrap(N.mls_tensor_squeeze(Handle, 0, 1));
    /// <summary>Removes dimension <paramref name="dim"/> if its size is 1.</summary>
    public Tensor Squeeze(long dim) => Wrap(N.mls_tensor_squeeze(Handle, dim, 0));
    /// <summary>Inserts a size-1 dimension.</summary>
    public Tensor Unsqueeze(long dim) => Wrap(N.mls_tensor_unsqueeze(Handle, dim));
    /// <summary>Flattens dimensions start..end into one.</summary>
    public Tensor Flatten(long startDim = 0, long endDim = -1) => Wrap(N.mls_tensor_flatten(Handle, startDim, endDim));

    /// <summary>A view with explicit sizes, strides (in elements) and storage offset.</summary>
    public unsafe Tensor AsStrided(long[] shape, long[] strides, long storageOffset = 0)
    {
        if (shape.Length != strides.Length)
            throw new ArgumentException($"AsStrided got {shape.Length} sizes and {strides.Length} strides; they must match.");
        fixed (long* s = shape)
        fixed (long* st = strides)
            return Wrap(N.mls_tensor_as_strided(Handle, s, st, shape.Length, storageOffset));
    }

    // ------------------------------------------------------------------ indexing
    /// <summary>The sub-tensor at <paramref name="index"/> along <paramref name="dim"/> (that dimension removed).</summary>
    public Tensor Select(long dim, long index) => Wrap(N.mls_tensor_select(Handle, dim, index));
    /// <summary>Elements start..end (exclusive) by step along a dimension; a view.</summary>
    public Tensor Slice(long dim, long start, long end, long step = 1) => Wrap(N.mls_tensor_slice(Handle, dim, start, end, step));
    /// <summary><paramref name="length"/> elements from <paramref name="start"/> along a dimension; a view.</summary>
    public Tensor Narrow(long dim, long start, long length) => Wrap(N.mls_tensor_narrow(Handle, dim, start, length));

    /// <summary>Rows (or slices along <paramref name="dim"/>) picked by an int64 index tensor.</summary>
    public Tensor IndexSelect(long dim, Tensor index)
    {
        var r = N.mls_tensor_index_select(Handle, dim, index.Handle);
        GC.KeepAlive(index);
        return Wrap(r);
    }

    /// <summary>Gathers values along a dimension by an index tensor.</summary>
    public Tensor Gather(long dim, Tensor index)
    {
        var r = N.mls_tensor_gather(Handle, dim, index.Handle);
        GC.KeepAlive(index);
        return Wrap(r);
    }

    /// <summary>Advanced indexing: <c>this[index]</c> with a bool mask or an int64 index tensor.</summary>
    public Tensor Index(Tensor index)
    {
        var r = N.mls_tensor_index(Handle, index.Handle);
        GC.KeepAlive(index);
        return Wrap(r);
    }

    /// <summary>In place: <c>this[index] = values</c> (or <c>+=</c> with <paramref name="accumulate"/>).</summary>
    public Tensor IndexPut_(Tensor index, Tensor values, bool accumulate = false)
    {
        NativeErrors.Check(N.mls_tensor_index_put_(Handle, index.Handle, values.Handle, accumulate ? 1 : 0));
        GC.KeepAlive(this);
        GC.KeepAlive(index);
        GC.KeepAlive(values);
        return this;
    }

    /// <summary>In place: sets elements where <paramref name="mask"/> is true to <paramref name="value"/>.</summary>
    public Tensor MaskedFill_(Tensor mask, double value)
    {
        NativeErrors.Check(N.mls_tensor_masked_fill_(Handle, mask.Handle, ScalarFor(value)));
        GC.KeepAlive(this);
        GC.KeepAlive(mask);
        return this;
    }

    /// <summary>In place: adds alpha * source rows at the given indices along a dimension.</summary>
    public Tensor IndexAdd_(long dim, Tensor index, Tensor source, double alpha = 1)
    {
        NativeErrors.Check(N.mls_tensor_index_add_(Handle, dim, index.Handle, source.Handle, alpha));
        GC.KeepAlive(this);
        GC.KeepAlive(index);
        GC.KeepAlive(source);
        return this;
    }

    /// <summary><c>this[i]</c>: the sub-tensor at index <paramref name="i"/> of the first dimension.</summary>
    public Tensor this[long i] => Select(0, i);

    /// <summary><c>this[a..b]</c>: a view of a range of the first dimension.</summary>
    public Tensor this[Range range]
    {
        get
        {
            var n = Size(0);
            var (start, length) = range.GetOffsetAndLength(checked((int)n));
            return Narrow(0, start, length);
        }
    }

    /// <summary>Splits into chunks of <paramref name="splitSize"/> along a dimension (the last may be smaller).</summary>
    public unsafe Tensor[] Split(long splitSize, long dim = 0)
    {
        if (splitSize <= 0) throw new ArgumentOutOfRangeException(nameof(splitSize), splitSize, "splitSize must be ≥ 1.");
        var n = Size((int)dim);
        var capacity = Math.Max(1, (n + splitSize - 1) / splitSize);
        var handles = new IntPtr[capacity];
        long count;
        fixed (IntPtr* p = handles) count = N.mls_tensor_split(Handle, splitSize, dim, p, capacity);
        GC.KeepAlive(this);
        if (count < 0) throw NativeErrors.Last();
        var result = new Tensor[count];
        for (var i = 0; i < count; i++) result[i] = new Tensor(handles[i]);
        return result;
    }

    /// <summary>Concatenates along an existing dimension.</summary>
    public static unsafe Tensor Cat(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Cat needs at least one tensor.", nameof(tensors));
        var handles = Handles(tensors);
        fixed (IntPtr* p = handles)
        {
            var r = N.mls_tensor_cat(p, handles.Length, dim);
            GC.KeepAlive(tensors);
            return FromHandle(r);
        }
    }

    /// <summary>Stacks along a new dimension.</summary>
    public static unsafe Tensor Stack(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Stack needs at least one tensor.", nameof(tensors));
        var handles = Handles(tensors);
        fixed (IntPtr* p = handles)
        {
            var r = N.mls_tensor_stack(p, handles.Length, dim);
            GC.KeepAlive(tensors);
            return FromHandle(r);
        }
    }

    internal static IntPtr[] Handles(IReadOnlyList<Tensor> tensors)
    {
        var h = new IntPtr[tensors.Count];
        for (var i = 0; i < h.Length; i++) h[i] = tensors[i].Handle;
        return h;
    }
}
