using MLLrSched.Backend;
using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

/// <summary>The default backend: libtorch through the native shim. Tensors are <see cref="Tensor"/>.</summary>
public sealed class NativeBackend : IBackend
{
    /// <summary>The single instance.</summary>
    public static readonly NativeBackend Instance = new();

    private NativeBackend() { }

    /// <inheritdoc />
    public string Name => "libtorch-native";

    /// <inheritdoc />
    public Device ResolveDevice(Device requested, bool fallbackToCpu) => Torch.ResolveDevice(requested, fallbackToCpu);

    /// <inheritdoc />
    public ITensor FromArray(ReadOnlySpan<float> data, long[] shape, Device device) => Tensor.FromArray(data, shape, device);
    /// <inheritdoc />
    public ITensor FromArray(ReadOnlySpan<double> data, long[] shape, Device device) => Tensor.FromArray(data, shape, device);
    /// <inheritdoc />
    public ITensor FromArray(ReadOnlySpan<long> data, long[] shape, Device device) => Tensor.FromArray(data, shape, device);
    /// <inheritdoc />
    public ITensor Zeros(long[] shape, DType dtype, Device device) => Tensor.Zeros(shape, dtype, device);
    /// <inheritdoc />
    public ITensor Scalar(double value, DType dtype, Device device) => Tensor.Scalar(value, dtype, device);
    /// <inheritdoc />
    public ITensor Cat(IReadOnlyList<ITensor> tensors, long dim) => Tensor.Cat(Natives(tensors), dim);
    /// <inheritdoc />
    public ITensor Stack(IReadOnlyList<ITensor> tensors, long dim) => Tensor.Stack(Natives(tensors), dim);
    /// <inheritdoc />
    public IDisposable NewScope() => TensorScope.Open();
    /// <inheritdoc />
    public IDisposable NoGrad() => Torch.NoGrad();
    /// <inheritdoc />
    public bool IsGradEnabled => Torch.IsGradEnabled;
    /// <inheritdoc />
    public void ManualSeed(long seed) => Torch.ManualSeed(seed);
    /// <inheritdoc />
    public byte[] GetRngState() => Generator.GetDefaultState();
    /// <inheritdoc />
    public void SetRngState(byte[] state) => Generator.SetDefaultState(state);
    /// <inheritdoc />
    public T? TryGet<T>() where T : class =>
        FusedKernels.Instance as T ?? Modules.ModuleBuilder.Instance as T ?? Serialization.NativeStorageSharing.Instance as T ?? this as T;
    /// <inheritdoc />
    public string LibtorchVersion => Torch.Version;
    /// <inheritdoc />
    public int NumThreads { get => Torch.NumThreads; set => Torch.NumThreads = value; }
    /// <inheritdoc />
    public ITensor FromBytes(ReadOnlySpan<byte> data, DType dtype, long[] shape, Device device) => Tensor.FromBytes(data, dtype, shape, device);

    /// <inheritdoc />
    public ILossFunctions Losses { get; } = new NativeLosses();

    private sealed class NativeLosses : ILossFunctions
    {
        public ITensor CrossEntropySum(ITensor logits, ITensor targets, ITensor? classWeights, double labelSmoothing) =>
            F.CrossEntropy(Nat(logits), Nat(targets), classWeights == null ? null : Nat(classWeights), Reduction.Sum, -100, labelSmoothing);

        public ITensor CrossEntropyPerSample(ITensor logits, ITensor targets, ITensor? classWeights, double labelSmoothing) =>
            F.CrossEntropy(Nat(logits), Nat(targets), classWeights == null ? null : Nat(classWeights), Reduction.None, -100, labelSmoothing);

        public ITensor RegressionSum(string kind, ITensor predictions, ITensor targets, double beta) =>
            Regression(kind, predictions, targets, beta, Reduction.Sum);

        public ITensor RegressionPerElement(string kind, ITensor predictions, ITensor targets, double beta) =>
            Regression(kind, predictions, targets, beta, Reduction.None);

        private static Tensor Regression(string kind, ITensor predictions, ITensor targets, double beta, Reduction reduction) => kind switch
        {
            "mse" => F.MseLoss(Nat(predictions), Nat(targets), reduction),
            "l1" => F.L1Loss(Nat(predictions), Nat(targets), reduction),
            "smooth_l1" => F.SmoothL1Loss(Nat(predictions), Nat(targets), reduction, beta),
            "huber" => F.HuberLoss(Nat(predictions), Nat(targets), reduction, beta),
            _ => throw new ArgumentException($"Unknown regression loss '{kind}'. Valid: mse, l1, smooth_l1, huber."),
        };

        public ITensor BinaryCrossEntropyWithLogitsSum(ITensor logits, ITensor targets, ITensor? posWeight) =>
            F.BinaryCrossEntropyWithLogits(Nat(logits), Nat(targets), null, posWeight == null ? null : Nat(posWeight), Reduction.Sum);

        private static Tensor Nat(ITensor t) => t as Tensor ?? throw new ArgumentException(
            $"A {t.GetType().Name} was passed to the libtorch-native loss functions; tensors of different backends cannot be mixed.");
    }

    /// <inheritdoc />
    public unsafe ITensor[] ForeachNorm(IReadOnlyList<ITensor> tensors, double p)
    {
        var list = Natives(tensors);
        var handles = Tensor.Handles(list);
        var output = new IntPtr[handles.Length];
        fixed (IntPtr* a = handles)
        fixed (IntPtr* o = output)
            NativeErrors.Check(N.mls_foreach((int)ForeachOp.Norm, a, null, handles.Length, p, o));
        GC.KeepAlive(list);
        var result = new ITensor[output.Length];
        for (var i = 0; i < output.Length; i++) result[i] = Tensor.FromHandle(output[i]);
        return result;
    }

    internal static Tensor[] Natives(IReadOnlyList<ITensor> tensors)
    {
        var r = new Tensor[tensors.Count];
        for (var i = 0; i < r.Length; i++)
            r[i] = tensors[i] as Tensor ?? throw new ArgumentException($"Tensor {i} is a {tensors[i].GetType().Name}, not a libtorch-native Tensor.");
        return r;
    }
}
