using MLLrSched.Backend;
using TorchSharp;
using TorchTensor = TorchSharp.torch.Tensor;

namespace MLLrSched.TorchSharpBackend;

/// <summary>
/// The backend seam over TorchSharp: tensors are <see cref="TorchSharpTensor"/>, scopes are TorchSharp dispose scopes,
/// and models are TorchSharp modules wrapped in <see cref="TorchSharpModel"/>. Capabilities (<see cref="TryGet{T}"/>):
/// <see cref="Backend.Modules.IModuleBuilder"/> only. No fused kernels: policies take their tensor-op path, which computes the same
/// float operations as PyTorch. Applications normally reach it through <see cref="TorchSharpEngine"/>
/// (<c>EngineRegistry.Load("torchsharp")</c>), which also checks that TorchSharp's native library loads.
/// </summary>
public sealed class TorchSharpBackend : IBackend
{
    /// <summary>The single instance.</summary>
    public static readonly TorchSharpBackend Instance = new();

    private TorchSharpBackend() { }

    /// <inheritdoc />
    public string Name => "torchsharp";

    /// <inheritdoc />
    public Device ResolveDevice(Device requested, bool fallbackToCpu)
    {
        if (!requested.IsCuda) return Device.Cpu;
        if (torch.cuda.is_available())
        {
            var count = torch.cuda.device_count();
            var index = requested.Index < 0 ? 0 : requested.Index;
            if (index < count) return Device.Cuda(index);
            if (!fallbackToCpu)
                throw new InvalidOperationException($"Device '{requested}' is not available: TorchSharp sees {count} CUDA device(s) (cuda:0..cuda:{count - 1}).");
            return Device.Cpu;
        }
        if (fallbackToCpu) return Device.Cpu;
        throw new InvalidOperationException(
            $"Device '{requested}' is not available: TorchSharp's libtorch has no usable CUDA device (only 'cpu'). Reference TorchSharp-cuda-linux " +
            "(MLLRSCHED_LIBTORCH_PACKAGE=TorchSharp-cuda-linux) on a machine with a GPU, or set FallbackToCpu.");
    }

    /// <inheritdoc />
    public ITensor FromArray(ReadOnlySpan<float> data, long[] shape, Device device) => Place(CopyToNew(data, shape, DType.Float32), device);
    /// <inheritdoc />
    public ITensor FromArray(ReadOnlySpan<double> data, long[] shape, Device device) => Place(CopyToNew(data, shape, DType.Float64), device);
    /// <inheritdoc />
    public ITensor FromArray(ReadOnlySpan<long> data, long[] shape, Device device) => Place(CopyToNew(data, shape, DType.Int64), device);

    // A new libtorch tensor with the span copied straight into its memory. TorchSharp's tensor(T[], shape) would instead
    // clone the array and pin the clone as the tensor's storage: with the span's own ToArray that is two managed arrays
    // per call (a training batch of 128 MNIST images: 2 × 400 KB on the large-object heap, every step), which the
    // garbage collector returns only at a gen-2 collection, so a process's memory kept growing by ~0.8 MB per step.
    private static TorchTensor CopyToNew<T>(ReadOnlySpan<T> data, long[] shape, DType dtype) where T : unmanaged
    {
        var count = ElementCount(shape);
        if (data.Length != count)
            throw new ArgumentException($"{data.Length} values given for a tensor of shape [{string.Join(", ", shape)}], which has {count} elements.", nameof(data));
        var host = torch.empty(shape, dtype.ToTorch());
        // bytes is a span over the new tensor's own (contiguous, CPU) memory.
        if (count > 0) System.Runtime.InteropServices.MemoryMarshal.AsBytes(data).CopyTo(host.bytes);
        return host;
    }

    private static long ElementCount(long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (var d in shape)
            count = d >= 0 ? checked(count * d) : throw new ArgumentException($"Negative dimension in shape [{string.Join(", ", shape)}].", nameof(shape));
        return count;
    }

    private static TorchSharpTensor Place(TorchTensor host, Device device)
    {
        if (!device.IsCuda) return new TorchSharpTensor(host);
        using (host) return new TorchSharpTensor(host.to(device.ToTorch()));
    }

    /// <inheritdoc />
    public ITensor Zeros(long[] shape, DType dtype, Device device) => new TorchSharpTensor(torch.zeros(shape, dtype.ToTorch(), device.ToTorch()));
    /// <inheritdoc />
    public ITensor Scalar(double value, DType dtype, Device device) => new TorchSharpTensor(torch.tensor(value, dtype.ToTorch(), device.ToTorch()));
    /// <inheritdoc />
    public ITensor Cat(IReadOnlyList<ITensor> tensors, long dim) => new TorchSharpTensor(torch.cat(Unwrap(tensors), dim));
    /// <inheritdoc />
    public ITensor Stack(IReadOnlyList<ITensor> tensors, long dim) => new TorchSharpTensor(torch.stack(Unwrap(tensors), dim));

    /// <inheritdoc />
    public IDisposable NewScope() => torch.NewDisposeScope();
    /// <inheritdoc />
    public IDisposable NoGrad() => torch.no_grad();
    /// <inheritdoc />
    public bool IsGradEnabled => torch.is_grad_enabled();

    /// <inheritdoc />
    public void ManualSeed(long seed)
    {
        // manual_seed returns a new handle to the default generator; disposing it frees the handle, not the generator.
        using var generator = torch.random.manual_seed(seed);
        if (torch.cuda.is_available()) torch.cuda.manual_seed_all(seed);
    }

    /// <inheritdoc />
    public byte[] GetRngState()
    {
        using var state = torch.random.get_rng_state();
        using var cpu = state.cpu();
        return cpu.data<byte>().ToArray();
    }

    /// <inheritdoc />
    public void SetRngState(byte[] state)
    {
        using var t = torch.tensor(state, torch.ScalarType.Byte);
        torch.random.set_rng_state(t);
    }

    /// <inheritdoc />
    /// <remarks>Offers <see cref="Backend.Modules.IModuleBuilder"/> (<see cref="TorchSharpModuleBuilder"/>); no fused kernels.</remarks>
    public T? TryGet<T>() where T : class => TorchSharpModuleBuilder.Instance as T;

    /// <inheritdoc />
    /// <remarks>The libtorch version this TorchSharp build was made for (<c>torch.__version__</c>, e.g. "2.10.0"); with
    /// MLLRSCHED_LIBTORCH_PACKAGE=none the libtorch actually loaded is whatever the system provides.</remarks>
    public string LibtorchVersion { get; } = string.Join('.', torch.__version__.Split('.').Take(3));

    /// <inheritdoc />
    public int NumThreads
    {
        get => torch.get_num_threads();
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            torch.set_num_threads(value);
        }
    }

    /// <inheritdoc />
    public ITensor FromBytes(ReadOnlySpan<byte> data, DType dtype, long[] shape, Device device)
    {
        var count = ElementCount(shape);
        var expected = count * dtype.ElementSize();
        if (data.Length != expected)
            throw new ArgumentException(
                $"{data.Length} bytes given for a {dtype.TorchName()} tensor of shape [{string.Join(", ", shape)}], which needs {expected}.", nameof(data));
        var host = torch.empty(shape, dtype.ToTorch());
        // bytes is a span over the new tensor's own (contiguous, CPU) memory.
        if (count > 0) data.CopyTo(host.bytes);
        return Place(host, device);
    }

    /// <inheritdoc />
    public ILossFunctions Losses { get; } = new TorchSharpLosses();

    /// <inheritdoc />
    public ITensor[] ForeachNorm(IReadOnlyList<ITensor> tensors, double p)
    {
        var result = new ITensor[tensors.Count];
        for (var i = 0; i < result.Length; i++) result[i] = tensors[i].Norm(p);
        return result;
    }

    internal static TorchTensor[] Unwrap(IReadOnlyList<ITensor> tensors)
    {
        var r = new TorchTensor[tensors.Count];
        for (var i = 0; i < r.Length; i++)
            r[i] = tensors[i] is TorchSharpTensor t ? t.Value
                : throw new ArgumentException($"Tensor {i} is a {tensors[i].GetType().Name} from backend '{tensors[i].Backend.Name}', not a TorchSharp tensor.");
        return r;
    }
}
