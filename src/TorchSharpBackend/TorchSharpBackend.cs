using MLLrSched.Backend;
using TorchSharp;
using TorchTensor = TorchSharp.torch.Tensor;

namespace MLLrSched.TorchSharpBackend;

/// <summary>
/// The backend seam over TorchSharp: tensors are <see cref="TorchSharpTensor"/>, scopes are TorchSharp dispose scopes,
/// and models are TorchSharp modules wrapped in <see cref="TorchSharpModel"/>. No fused kernels: policies take their
/// tensor-op path, which computes the same float operations as PyTorch. The native backend stays the default; use this
/// one to train your own TorchSharp <c>nn.Module</c> with MLLrSched's policies.
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
    public ITensor FromArray(ReadOnlySpan<float> data, long[] shape, Device device) => Place(torch.tensor(data.ToArray(), shape), device);
    /// <inheritdoc />
    public ITensor FromArray(ReadOnlySpan<double> data, long[] shape, Device device) => Place(torch.tensor(data.ToArray(), shape), device);
    /// <inheritdoc />
    public ITensor FromArray(ReadOnlySpan<long> data, long[] shape, Device device) => Place(torch.tensor(data.ToArray(), shape), device);

    // TorchSharp's tensor(T[]) may share the array's memory; the array is a fresh copy, so nothing else sees it.
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
        torch.random.manual_seed(seed);
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
    public IFusedKernels? Fused => null;

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
