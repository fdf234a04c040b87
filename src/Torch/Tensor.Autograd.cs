using System.Runtime.InteropServices;
using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

public sealed partial class Tensor
{
    /// <summary>Whether autograd records operations on this tensor (settable on leaves).</summary>
    public bool RequiresGrad
    {
        get
        {
            var r = N.mls_requires_grad(Handle) != 0;
            GC.KeepAlive(this);
            return r;
        }
        set
        {
            NativeErrors.Check(N.mls_set_requires_grad(Handle, value ? 1 : 0));
            GC.KeepAlive(this);
        }
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this (PyTorch's <c>requires_grad_()</c>).</summary>
    public Tensor RequiresGrad_(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }

    /// <summary>True for tensors created by the user rather than by a recorded operation.</summary>
    public bool IsLeaf
    {
        get
        {
            var r = N.mls_is_leaf(Handle) != 0;
            GC.KeepAlive(this);
            return r;
        }
    }

    /// <summary>Name of the autograd node that produced this tensor (empty for leaves), e.g. <c>AddBackward0</c>.</summary>
    public string GradFnName
    {
        get
        {
            var p = NativeErrors.Check(N.mls_grad_fn_name(Handle));
            GC.KeepAlive(this);
            return Marshal.PtrToStringUTF8(p) ?? "";
        }
    }

    /// <summary>Keeps <see cref="Grad"/> for this non-leaf tensor after backward.</summary>
    public void RetainGrad()
    {
        NativeErrors.Check(N.mls_retain_grad(Handle));
        GC.KeepAlive(this);
    }

    /// <summary>
    /// The gradient accumulated by backward passes, or null (PyTorch's <c>None</c>). The getter returns a
    /// new handle sharing the gradient's memory (dispose it; the gradient itself stays). Setting null frees it
    /// (PyTorch's <c>zero_grad(set_to_none=True)</c>).
    /// </summary>
    public Tensor? Grad
    {
        get
        {
            var g = N.mls_grad(Handle, out var defined);
            GC.KeepAlive(this);
            if (defined == 0) return null;
            return FromHandle(g);
        }
        set
        {
            NativeErrors.Check(N.mls_set_grad(Handle, value?.Handle ?? IntPtr.Zero));
            GC.KeepAlive(this);
            GC.KeepAlive(value);
        }
    }

    /// <summary>
    /// Backpropagates from this tensor. Gradients accumulate into the leaves' <see cref="Grad"/> across calls,
    /// as in libtorch. <paramref name="gradient"/> is required for non-scalar outputs.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false)
    {
        NativeErrors.Check(N.mls_backward(Handle, gradient?.Handle ?? IntPtr.Zero, retainGraph ? 1 : 0, createGraph ? 1 : 0));
        GC.KeepAlive(this);
        GC.KeepAlive(gradient);
    }

    // ------------------------------------------------------------------ sparse
    /// <summary>A sparse COO tensor from [ndim, nnz] int64 indices and values.</summary>
    public static unsafe Tensor SparseCoo(Tensor indices, Tensor values, long[] shape)
    {
        fixed (long* p = shape)
        {
            var r = N.mls_sparse_coo(indices.Handle, values.Handle, p, shape.Length);
            GC.KeepAlive(indices);
            GC.KeepAlive(values);
            return FromHandle(r);
        }
    }

    /// <summary>The coalesced form of a sparse tensor (duplicate indices summed, indices sorted).</summary>
    public Tensor Coalesce() => Wrap(N.mls_sparse_op(0, Handle));
    /// <summary>The raw indices of a sparse tensor (PyTorch's <c>_indices()</c>).</summary>
    public Tensor SparseIndices() => Wrap(N.mls_sparse_op(1, Handle));
    /// <summary>The raw values of a sparse tensor (PyTorch's <c>_values()</c>).</summary>
    public Tensor SparseValues() => Wrap(N.mls_sparse_op(2, Handle));
    /// <summary>The dense form of a sparse tensor.</summary>
    public Tensor ToDense() => Wrap(N.mls_sparse_op(3, Handle));

    /// <summary>A sparse tensor with this dense tensor's values at the indices of sparse <paramref name="mask"/>.</summary>
    public Tensor SparseMask(Tensor mask)
    {
        var r = N.mls_sparse_mask(Handle, mask.Handle);
        GC.KeepAlive(mask);
        return Wrap(r);
    }
}
