using System.Reflection;
using System.Runtime.ExceptionServices;
using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;

namespace MLLrSched.Torch.Tests.Persistence;

/// <summary>
/// The native engine without <see cref="ITensorStorageSharing"/>: what StateFile sees of an engine that offers only
/// the seam's required members. Everything else is the native engine's.
/// </summary>
public sealed class NoSharingBackend(IBackend inner) : IBackend
{
    public static readonly NoSharingBackend Native = new(NativeBackend.Instance);

    public IBackend Inner { get; } = inner;
    public string Name => "no-sharing(" + Inner.Name + ")";
    public T? TryGet<T>() where T : class => typeof(T) == typeof(ITensorStorageSharing) ? null : Inner.TryGet<T>();

    public Device ResolveDevice(Device requested, bool fallbackToCpu) => Inner.ResolveDevice(requested, fallbackToCpu);
    public ITensor FromArray(ReadOnlySpan<float> data, long[] shape, Device device) => Inner.FromArray(data, shape, device);
    public ITensor FromArray(ReadOnlySpan<double> data, long[] shape, Device device) => Inner.FromArray(data, shape, device);
    public ITensor FromArray(ReadOnlySpan<long> data, long[] shape, Device device) => Inner.FromArray(data, shape, device);
    public ITensor Zeros(long[] shape, DType dtype, Device device) => Inner.Zeros(shape, dtype, device);
    public ITensor Scalar(double value, DType dtype, Device device) => Inner.Scalar(value, dtype, device);
    public ITensor Cat(IReadOnlyList<ITensor> tensors, long dim) => Inner.Cat(tensors, dim);
    public ITensor Stack(IReadOnlyList<ITensor> tensors, long dim) => Inner.Stack(tensors, dim);
    public IDisposable NewScope() => Inner.NewScope();
    public IDisposable NoGrad() => Inner.NoGrad();
    public void ManualSeed(long seed) => Inner.ManualSeed(seed);
    public byte[] GetRngState() => Inner.GetRngState();
    public void SetRngState(byte[] state) => Inner.SetRngState(state);
    public string LibtorchVersion => Inner.LibtorchVersion;
    public int NumThreads { get => Inner.NumThreads; set => Inner.NumThreads = value; }
    public ITensor FromBytes(ReadOnlySpan<byte> data, DType dtype, long[] shape, Device device) => Inner.FromBytes(data, dtype, shape, device);
    public ILossFunctions Losses => Inner.Losses;
    public ITensor[] ForeachNorm(IReadOnlyList<ITensor> tensors, double p) => Inner.ForeachNorm(tensors, p);
    public bool IsGradEnabled => Inner.IsGradEnabled;
}

/// <summary>
/// An <see cref="ITensor"/> that forwards every call to a native tensor but reports another engine
/// (<see cref="ITensor.Backend"/>), so the writer asks that engine for capabilities; <see cref="ToBytesFails"/>
/// makes <see cref="ITensor.ToBytes"/> throw, as a device error in the middle of a save would.
/// </summary>
public class ForwardingTensor : DispatchProxy
{
    private ITensor _inner = null!;
    private IBackend _backend = null!;

    /// <summary>When set, ToBytes throws this instead of copying.</summary>
    public Exception? ToBytesFails { get; set; }

    public static ITensor Wrap(ITensor inner, IBackend backend, Exception? toBytesFails = null)
    {
        var proxy = Create<ITensor, ForwardingTensor>();
        var self = (ForwardingTensor)(object)proxy;
        self._inner = inner;
        self._backend = backend;
        self.ToBytesFails = toBytesFails;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == "get_Backend") return _backend;
        if (targetMethod.Name == nameof(ITensor.ToBytes) && ToBytesFails != null) throw ToBytesFails;
        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException != null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
