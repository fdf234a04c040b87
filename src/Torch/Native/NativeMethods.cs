using System.Runtime.InteropServices;

namespace MLLrSched.Torch.Native;

/// <summary>A scalar as the shim takes it (native/src/shim.h: mls::Scalar).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct NativeScalar
{
    public readonly double D;
    public readonly long I;
    public readonly int Kind; // 0 floating, 1 integral, 2 bool

    private NativeScalar(double d, long i, int kind) { D = d; I = i; Kind = kind; }
    public static NativeScalar Of(double d) => new(d, 0, 0);
    public static NativeScalar Of(long i) => new(i, i, 1);
    public static NativeScalar Of(bool b) => new(b ? 1 : 0, b ? 1 : 0, 2);
}

/// <summary>
/// The shim's C entry points (native/src/*.cpp). Handles are owning <c>at::Tensor*</c>; a null
/// handle or non-zero int return means failure with the message in <c>mls_last_error</c>.
/// Callers go through <see cref="Tensor"/>'s helpers, which check results and keep operands alive.
/// </summary>
internal static unsafe partial class NativeMethods
{
    public const string Lib = "mllrsched_native";

    // errors, version
    [LibraryImport(Lib)] public static partial IntPtr mls_last_error();
    [LibraryImport(Lib)] public static partial int mls_last_error_kind();
    [LibraryImport(Lib)] public static partial IntPtr mls_torch_version();
    [LibraryImport(Lib)] public static partial int mls_abi_version();

    // lifecycle, properties
    [LibraryImport(Lib)] public static partial void mls_tensor_free(IntPtr h);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_from_data(void* data, long nbytes, long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] public static partial int mls_tensor_copy_to_host(IntPtr h, void* dst, long nbytes);
    [LibraryImport(Lib)] public static partial int mls_tensor_ndim(IntPtr h);
    [LibraryImport(Lib)] public static partial int mls_tensor_shape(IntPtr h, long* shape);
    [LibraryImport(Lib)] public static partial int mls_tensor_strides(IntPtr h, long* strides);
    [LibraryImport(Lib)] public static partial long mls_tensor_numel(IntPtr h);
    [LibraryImport(Lib)] public static partial int mls_tensor_dtype(IntPtr h);
    [LibraryImport(Lib)] public static partial int mls_tensor_device(IntPtr h, out int type, out int index);
    [LibraryImport(Lib)] public static partial int mls_tensor_is_sparse(IntPtr h);
    [LibraryImport(Lib)] public static partial int mls_tensor_is_contiguous(IntPtr h);
    [LibraryImport(Lib)] public static partial long mls_tensor_storage_offset(IntPtr h);
    [LibraryImport(Lib)] public static partial int mls_tensor_item(IntPtr h, out double d, out long i);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_to_string(IntPtr h);

    // creation
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_new(int kind, long* shape, int ndim, NativeScalar value, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_arange(double start, double end, double step, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_linspace(double start, double end, long steps, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_eye(long n, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_random(int kind, long* shape, int ndim, double a, double b, IntPtr generator, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_randperm(long n, IntPtr generator, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Lib)] public static partial int mls_tensor_random_(IntPtr h, int kind, double a, double b, IntPtr generator);

    // conversion, copies
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_clone(IntPtr h);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_detach(IntPtr h);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_contiguous(IntPtr h);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_to(IntPtr h, int dtype, int deviceType, int deviceIndex, int copy);
    [LibraryImport(Lib)] public static partial int mls_tensor_copy_(IntPtr self, IntPtr src);
    [LibraryImport(Lib)] public static partial int mls_tensor_set_data(IntPtr h, IntPtr src);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_alias(IntPtr h);

    // shape
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_reshape(IntPtr h, long* shape, int ndim);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_view(IntPtr h, long* shape, int ndim);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_expand(IntPtr h, long* shape, int ndim);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_permute(IntPtr h, long* dims, int ndim);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_transpose(IntPtr h, long d0, long d1);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_squeeze(IntPtr h, long dim, int all);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_unsqueeze(IntPtr h, long dim);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_flatten(IntPtr h, long start, long end);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_as_strided(IntPtr h, long* shape, long* strides, int ndim, long offset);

    // indexing
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_select(IntPtr h, long dim, long index);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_slice(IntPtr h, long dim, long start, long end, long step);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_narrow(IntPtr h, long dim, long start, long length);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_index_select(IntPtr h, long dim, IntPtr index);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_gather(IntPtr h, long dim, IntPtr index);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_index(IntPtr h, IntPtr index);
    [LibraryImport(Lib)] public static partial int mls_tensor_index_put_(IntPtr h, IntPtr index, IntPtr values, int accumulate);
    [LibraryImport(Lib)] public static partial int mls_tensor_masked_fill_(IntPtr h, IntPtr mask, NativeScalar value);
    [LibraryImport(Lib)] public static partial int mls_tensor_index_add_(IntPtr h, long dim, IntPtr index, IntPtr source, double alpha);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_cat(IntPtr* handles, long n, long dim);
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_stack(IntPtr* handles, long n, long dim);
    [LibraryImport(Lib)] public static partial long mls_tensor_split(IntPtr h, long size, long dim, IntPtr* output, long capacity);

    // generators, threads, devices
    [LibraryImport(Lib)] public static partial IntPtr mls_generator_new(ulong seed);
    [LibraryImport(Lib)] public static partial void mls_generator_free(IntPtr g);
    [LibraryImport(Lib)] public static partial int mls_generator_manual_seed(IntPtr g, ulong seed);
    [LibraryImport(Lib)] public static partial IntPtr mls_generator_get_state(IntPtr g);
    [LibraryImport(Lib)] public static partial int mls_generator_set_state(IntPtr g, IntPtr state);
    [LibraryImport(Lib)] public static partial int mls_manual_seed(ulong seed);
    [LibraryImport(Lib)] public static partial int mls_get_num_threads();
    [LibraryImport(Lib)] public static partial int mls_set_num_threads(int n);
    [LibraryImport(Lib)] public static partial int mls_get_num_interop_threads();
    [LibraryImport(Lib)] public static partial int mls_set_num_interop_threads(int n);
    [LibraryImport(Lib)] public static partial int mls_cuda_is_available();
    [LibraryImport(Lib)] public static partial int mls_cuda_device_count();
    [LibraryImport(Lib)] public static partial int mls_cuda_synchronize(int device);

    // math
    [LibraryImport(Lib)] public static partial IntPtr mls_unary(int op, IntPtr a);
    [LibraryImport(Lib)] public static partial int mls_unary_(int op, IntPtr a);
    [LibraryImport(Lib)] public static partial IntPtr mls_binary(int op, IntPtr a, IntPtr b, NativeScalar alpha);
    [LibraryImport(Lib)] public static partial int mls_binary_(int op, IntPtr a, IntPtr b, NativeScalar alpha);
    [LibraryImport(Lib)] public static partial IntPtr mls_binary_scalar(int op, IntPtr a, NativeScalar s);
    [LibraryImport(Lib)] public static partial int mls_binary_scalar_(int op, IntPtr a, NativeScalar s);
    [LibraryImport(Lib)] public static partial IntPtr mls_addcmul(IntPtr self, IntPtr t1, IntPtr t2, double value, int inplace);
    [LibraryImport(Lib)] public static partial IntPtr mls_addcdiv(IntPtr self, IntPtr t1, IntPtr t2, double value, int inplace);
    [LibraryImport(Lib)] public static partial IntPtr mls_lerp(IntPtr self, IntPtr end, double weight, IntPtr weightTensor, int inplace);
    [LibraryImport(Lib)] public static partial IntPtr mls_clamp(IntPtr self, int hasMin, double min, int hasMax, double max, int inplace);
    [LibraryImport(Lib)] public static partial IntPtr mls_where(IntPtr cond, IntPtr a, IntPtr b);
    [LibraryImport(Lib)] public static partial IntPtr mls_addmm(IntPtr self, IntPtr m1, IntPtr m2, double beta, double alpha);
    [LibraryImport(Lib)] public static partial IntPtr mls_pow_scalar_base(double b, IntPtr exponent);
    [LibraryImport(Lib)] public static partial IntPtr mls_nan_to_num(IntPtr self, double nan, double posinf, double neginf);
    [LibraryImport(Lib)] public static partial int mls_allclose(IntPtr a, IntPtr b, double rtol, double atol, int equalNan);
    [LibraryImport(Lib)] public static partial int mls_equal(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] public static partial IntPtr mls_reduce(int op, IntPtr a, long* dims, int ndims, int keepdim, int dtype);
    [LibraryImport(Lib)] public static partial IntPtr mls_norm(IntPtr a, double p, long* dims, int ndims, int keepdim);
    [LibraryImport(Lib)] public static partial int mls_values_indices(int op, IntPtr a, long dim, int keepdim, long extra, out IntPtr values, out IntPtr indices);
    [LibraryImport(Lib)] public static partial int mls_foreach_(int op, IntPtr* a, IntPtr* b, IntPtr* c, long n, double scalar);
    [LibraryImport(Lib)] public static partial int mls_foreach(int op, IntPtr* a, IntPtr* b, long n, double scalar, IntPtr* output);

    // sparse
    [LibraryImport(Lib)] public static partial IntPtr mls_sparse_coo(IntPtr indices, IntPtr values, long* shape, int ndim);
    [LibraryImport(Lib)] public static partial IntPtr mls_sparse_op(int op, IntPtr a);
    [LibraryImport(Lib)] public static partial IntPtr mls_sparse_mask(IntPtr dense, IntPtr mask);
    [LibraryImport(Lib)] public static partial int mls_sparse_is_coalesced(IntPtr a);

    // autograd
    [LibraryImport(Lib)] public static partial int mls_requires_grad(IntPtr h);
    [LibraryImport(Lib)] public static partial int mls_set_requires_grad(IntPtr h, int value);
    [LibraryImport(Lib)] public static partial int mls_is_leaf(IntPtr h);
    [LibraryImport(Lib)] public static partial int mls_retain_grad(IntPtr h);
    [LibraryImport(Lib)] public static partial IntPtr mls_grad_fn_name(IntPtr h);
    [LibraryImport(Lib)] public static partial int mls_backward(IntPtr h, IntPtr grad, int retainGraph, int createGraph);
    [LibraryImport(Lib)] public static partial IntPtr mls_grad(IntPtr h, out int defined);
    [LibraryImport(Lib)] public static partial int mls_set_grad(IntPtr h, IntPtr grad);
    [LibraryImport(Lib)] public static partial int mls_grad_enabled();
    [LibraryImport(Lib)] public static partial void mls_set_grad_enabled(int enabled);

    // functional nn
    [LibraryImport(Lib)] public static partial IntPtr mls_linear(IntPtr x, IntPtr w, IntPtr b);
    [LibraryImport(Lib)] public static partial IntPtr mls_conv2d(IntPtr x, IntPtr w, IntPtr b, long* stride, long* padding, long* dilation, long groups);
    [LibraryImport(Lib)] public static partial IntPtr mls_pool2d(int kind, IntPtr x, long* kernel, long* stride, long* padding, long* dilation, int ceilMode);
    [LibraryImport(Lib)] public static partial IntPtr mls_adaptive_avg_pool2d(IntPtr x, long oh, long ow);
    [LibraryImport(Lib)] public static partial IntPtr mls_dropout(IntPtr x, double p, int train);
    [LibraryImport(Lib)] public static partial IntPtr mls_layer_norm(IntPtr x, long* shape, int ndim, IntPtr w, IntPtr b, double eps);
    [LibraryImport(Lib)] public static partial IntPtr mls_batch_norm(IntPtr x, IntPtr w, IntPtr b, IntPtr runningMean, IntPtr runningVar, int training, double momentum, double eps);
    [LibraryImport(Lib)] public static partial IntPtr mls_embedding(IntPtr weight, IntPtr indices, long paddingIdx, int scaleGrad, int sparse);
    [LibraryImport(Lib)] public static partial IntPtr mls_softmax(int kind, IntPtr x, long dim);
    [LibraryImport(Lib)] public static partial IntPtr mls_cross_entropy(IntPtr input, IntPtr target, IntPtr weight, int reduction, long ignoreIndex, double labelSmoothing);
    [LibraryImport(Lib)] public static partial IntPtr mls_nll_loss(IntPtr input, IntPtr target, IntPtr weight, int reduction, long ignoreIndex);
    [LibraryImport(Lib)] public static partial IntPtr mls_regression_loss(int kind, IntPtr input, IntPtr target, int reduction, double beta);
    [LibraryImport(Lib)] public static partial IntPtr mls_bce_with_logits(IntPtr input, IntPtr target, IntPtr weight, IntPtr posWeight, int reduction);
    [LibraryImport(Lib)] public static partial IntPtr mls_one_hot(IntPtr indices, long numClasses);

    // persistence (ITensorStorageSharing)
    [LibraryImport(Lib)] public static partial IntPtr mls_tensor_data_ptr(IntPtr h);

    // fused kernels

    /// <summary>Bits of the fused kernels' <c>formulas</c> argument (MLS_FUSED_* in native/src/fused_kernels.cpp):
    /// PyTorch 2.x's lerp_ for the first moment (Adam) or grad_avg (centered RMSprop).</summary>
    public const int FusedLerpMoment = 1;
    /// <summary>PyTorch 2.x's <c>bias_correction2 ** 0.5</c> (pow) instead of math.sqrt (Adam).</summary>
    public const int FusedPowSqrt = 2;

    [LibraryImport(Lib)] public static partial int mls_fused_adam(IntPtr param, IntPtr grad, IntPtr expAvg, IntPtr expAvgSq, IntPtr maxSq, double lr, double beta1, double beta2, double eps, double weightDecay, double step, int decoupled, int maximize, int formulas);
    [LibraryImport(Lib)] public static partial int mls_fused_sgd(IntPtr param, IntPtr grad, IntPtr momentumBuf, double lr, double momentum, double dampening, double weightDecay, int nesterov, int first, int maximize);
    [LibraryImport(Lib)] public static partial int mls_fused_lion(IntPtr param, IntPtr grad, IntPtr expAvg, double lr, double beta1, double beta2, double weightDecay);
    [LibraryImport(Lib)] public static partial int mls_fused_rmsprop(IntPtr param, IntPtr grad, IntPtr squareAvg, IntPtr gradAvg, IntPtr momentumBuf, double lr, double alpha, double eps, double weightDecay, double momentum, int maximize, int formulas);
    [LibraryImport(Lib)] public static partial int mls_fused_adagrad(IntPtr param, IntPtr grad, IntPtr stateSum, double clr, double eps, double weightDecay, int maximize);
    [LibraryImport(Lib)] public static partial int mls_fused_ema(IntPtr* shadows, IntPtr* parameters, long count, double decay);
    [LibraryImport(Lib)] public static partial int mls_stream_triad(IntPtr a, IntPtr b, IntPtr c, double s);
    [LibraryImport(Lib)] public static partial long mls_diag_add_loop(IntPtr a, IntPtr b, long iterations);
}
