using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

/// <summary>How a loss reduces over the batch (PyTorch's <c>reduction=</c>).</summary>
public enum Reduction
{
    /// <summary>One loss per element.</summary>
    None = 0,
    /// <summary>The mean (PyTorch's default).</summary>
    Mean = 1,
    /// <summary>The sum.</summary>
    Sum = 2,
}

/// <summary>
/// Functional neural-network ops with PyTorch's semantics (<c>torch.nn.functional</c>). Each returns a new
/// tensor the caller owns.
/// </summary>
public static class F
{
    private static IntPtr H(Tensor? t) => t?.Handle ?? IntPtr.Zero;

    private static Tensor Done(IntPtr result, params Tensor?[] keepAlive)
    {
        GC.KeepAlive(keepAlive);
        return Tensor.FromHandle(result);
    }

    /// <summary>y = x Wᵀ + b.</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null) =>
        Done(N.mls_linear(input.Handle, weight.Handle, H(bias)), input, weight, bias);

    /// <summary>2-D convolution over an [N, C, H, W] input.</summary>
    public static unsafe Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, (long, long)? stride = null,
        (long, long)? padding = null, (long, long)? dilation = null, long groups = 1)
    {
        var s = Pair(stride ?? (1, 1));
        var p = Pair(padding ?? (0, 0));
        var d = Pair(dilation ?? (1, 1));
        fixed (long* ps = s)
        fixed (long* pp = p)
        fixed (long* pd = d)
            return Done(N.mls_conv2d(input.Handle, weight.Handle, H(bias), ps, pp, pd, groups), input, weight, bias);
    }

    private static long[] Pair((long, long) v) => new[] { v.Item1, v.Item2 };

    /// <summary>2-D max pooling; stride defaults to the kernel size.</summary>
    public static Tensor MaxPool2d(Tensor input, (long, long) kernelSize, (long, long)? stride = null,
        (long, long)? padding = null, (long, long)? dilation = null, bool ceilMode = false) =>
        Pool(0, input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), dilation ?? (1, 1), ceilMode);

    /// <summary>2-D average pooling (padding counted, as PyTorch's default); stride defaults to the kernel size.</summary>
    public static Tensor AvgPool2d(Tensor input, (long, long) kernelSize, (long, long)? stride = null,
        (long, long)? padding = null, bool ceilMode = false) =>
        Pool(1, input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), (1, 1), ceilMode);

    private static unsafe Tensor Pool(int kind, Tensor input, (long, long) k, (long, long) s, (long, long) p, (long, long) d, bool ceil)
    {
        var ka = Pair(k);
        var sa = Pair(s);
        var pa = Pair(p);
        var da = Pair(d);
        fixed (long* pk = ka)
        fixed (long* ps = sa)
        fixed (long* pp = pa)
        fixed (long* pd = da)
            return Done(N.mls_pool2d(kind, input.Handle, pk, ps, pp, pd, ceil ? 1 : 0), input);
    }

    /// <summary>Adaptive average pooling to an output of [outH, outW].</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, long outH, long outW) =>
        Done(N.mls_adaptive_avg_pool2d(input.Handle, outH, outW), input);

    /// <summary>ReLU.</summary>
    public static Tensor Relu(Tensor x) => x.Relu();
    /// <summary>GELU (exact by default; <paramref name="tanhApproximation"/> for the tanh form).</summary>
    public static Tensor Gelu(Tensor x, bool tanhApproximation = false) => tanhApproximation ? x.GeluTanh() : x.Gelu();
    /// <summary>SiLU / swish.</summary>
    public static Tensor Silu(Tensor x) => x.Silu();
    /// <summary>Hyperbolic tangent.</summary>
    public static Tensor Tanh(Tensor x) => x.Tanh();
    /// <summary>Logistic sigmoid.</summary>
    public static Tensor Sigmoid(Tensor x) => x.Sigmoid();

    /// <summary>
    /// Dropout: in training, zeroes elements with probability <paramref name="p"/> and scales the rest by
    /// 1/(1-p); the identity otherwise. Draws from libtorch's default generator (<see cref="Torch.ManualSeed"/>).
    /// </summary>
    public static Tensor Dropout(Tensor x, double p = 0.5, bool training = true)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1].");
        return Done(N.mls_dropout(x.Handle, p, training ? 1 : 0), x);
    }

    /// <summary>Layer normalisation over the trailing <paramref name="normalizedShape"/> dimensions.</summary>
    public static unsafe Tensor LayerNorm(Tensor x, long[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        fixed (long* s = normalizedShape)
            return Done(N.mls_layer_norm(x.Handle, s, normalizedShape.Length, H(weight), H(bias), eps), x, weight, bias);
    }

    /// <summary>
    /// Batch normalisation. In training mode the batch statistics normalise and the running statistics (when
    /// given) are updated in place with <paramref name="momentum"/>; in eval mode the running statistics normalise.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5) =>
        Done(N.mls_batch_norm(x.Handle, H(weight), H(bias), H(runningMean), H(runningVar), training ? 1 : 0, momentum, eps),
            x, weight, bias, runningMean, runningVar);

    /// <summary>Looks up rows of <paramref name="weight"/>; <paramref name="sparse"/> gives a sparse gradient.</summary>
    public static Tensor Embedding(Tensor indices, Tensor weight, long paddingIdx = -1, bool scaleGradByFreq = false, bool sparse = false) =>
        Done(N.mls_embedding(weight.Handle, indices.Handle, paddingIdx, scaleGradByFreq ? 1 : 0, sparse ? 1 : 0), indices, weight);

    /// <summary>log(softmax(x)) along a dimension, computed stably.</summary>
    public static Tensor LogSoftmax(Tensor x, long dim) => Done(N.mls_softmax(0, x.Handle, dim), x);
    /// <summary>Softmax along a dimension.</summary>
    public static Tensor Softmax(Tensor x, long dim) => Done(N.mls_softmax(1, x.Handle, dim), x);

    /// <summary>
    /// Cross-entropy between logits [N, C] (or [N, C, ...]) and int64 class targets [N] (or class probabilities of the
    /// input's shape), with optional class weights, ignore index and label smoothing — PyTorch's <c>cross_entropy</c>.
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean,
        long ignoreIndex = -100, double labelSmoothing = 0)
    {
        if (labelSmoothing < 0 || labelSmoothing > 1)
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label_smoothing must be in [0, 1].");
        return Done(N.mls_cross_entropy(input.Handle, target.Handle, H(weight), (int)reduction, ignoreIndex, labelSmoothing), input, target, weight);
    }

    /// <summary>Negative log-likelihood of log-probabilities [N, C] at int64 targets [N].</summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100) =>
        Done(N.mls_nll_loss(input.Handle, target.Handle, H(weight), (int)reduction, ignoreIndex), input, target, weight);

    /// <summary>Mean squared error.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        Done(N.mls_regression_loss(0, input.Handle, target.Handle, (int)reduction, 0), input, target);

    /// <summary>Mean absolute error.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        Done(N.mls_regression_loss(1, input.Handle, target.Handle, (int)reduction, 0), input, target);

    /// <summary>Smooth L1 (quadratic below <paramref name="beta"/>, linear above).</summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        if (beta < 0) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be ≥ 0.");
        return Done(N.mls_regression_loss(2, input.Handle, target.Handle, (int)reduction, beta), input, target);
    }

    /// <summary>Huber loss with threshold <paramref name="delta"/>.</summary>
    public static Tensor HuberLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        if (delta <= 0) throw new ArgumentOutOfRangeException(nameof(delta), delta, "delta must be > 0.");
        return Done(N.mls_regression_loss(3, input.Handle, target.Handle, (int)reduction, delta), input, target);
    }

    /// <summary>Binary cross-entropy on logits, with optional element weights and positive-class weights.</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null,
        Reduction reduction = Reduction.Mean) =>
        Done(N.mls_bce_with_logits(input.Handle, target.Handle, H(weight), H(posWeight), (int)reduction), input, target, weight, posWeight);

    /// <summary>One-hot encoding of int64 class indices.</summary>
    public static Tensor OneHot(Tensor indices, long numClasses = -1) => Done(N.mls_one_hot(indices.Handle, numClasses), indices);
}
