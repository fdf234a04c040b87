namespace MLLrSched.Backend;

/// <summary>
/// A tensor backend: creates tensors, scopes their lifetime, switches autograd off, and optionally
/// offers fused kernels. The native libtorch binding is the default; a TorchSharp adapter is another.
/// </summary>
public interface IBackend
{
    /// <summary>Short name for messages and logs ("libtorch-native", "torchsharp").</summary>
    string Name { get; }

    /// <summary>Validates <paramref name="requested"/> against what this backend can run on and returns
    /// the device to use: the CPU when CUDA is missing and <paramref name="fallbackToCpu"/> is set.</summary>
    /// <exception cref="InvalidOperationException">The device is not available and no fallback was asked for;
    /// the message says what is available.</exception>
    Device ResolveDevice(Device requested, bool fallbackToCpu);

    /// <summary>A new tensor holding a copy of <paramref name="data"/> with the given shape.</summary>
    ITensor FromArray(ReadOnlySpan<float> data, long[] shape, Device device);
    /// <summary>A new tensor holding a copy of <paramref name="data"/> with the given shape.</summary>
    ITensor FromArray(ReadOnlySpan<double> data, long[] shape, Device device);
    /// <summary>A new tensor holding a copy of <paramref name="data"/> with the given shape.</summary>
    ITensor FromArray(ReadOnlySpan<long> data, long[] shape, Device device);
    /// <summary>A tensor of zeros.</summary>
    ITensor Zeros(long[] shape, DType dtype, Device device);
    /// <summary>A 0-dim tensor holding <paramref name="value"/>.</summary>
    ITensor Scalar(double value, DType dtype, Device device);
    /// <summary>Concatenates along an existing dimension.</summary>
    ITensor Cat(IReadOnlyList<ITensor> tensors, long dim);
    /// <summary>Stacks along a new dimension.</summary>
    ITensor Stack(IReadOnlyList<ITensor> tensors, long dim);

    /// <summary>
    /// Opens a dispose scope on this thread: tensors this backend creates until the scope is disposed
    /// are freed when it is, unless they were detached from it (<see cref="ITensor.DetachFromScope"/>).
    /// Scopes nest.
    /// </summary>
    IDisposable NewScope();

    /// <summary>Turns autograd recording off on this thread until the returned object is disposed.</summary>
    IDisposable NoGrad();

    /// <summary>Seeds every random generator this backend uses.</summary>
    void ManualSeed(long seed);

    /// <summary>The state of the backend's default random generator, for checkpoints.</summary>
    byte[] GetRngState();
    /// <summary>Restores a state returned by <see cref="GetRngState"/>.</summary>
    void SetRngState(byte[] state);

    /// <summary>
    /// An optional capability of this engine, or null when it has none: fused kernels an optimizer can use
    /// (<c>TryGet&lt;IFusedAdam&gt;()</c>, contracts in MLLrSched.Kernels), a module builder, file persistence...
    /// The seam names no policy; whoever wants a capability defines its interface and asks for it, and an engine
    /// without it gets the caller's portable path.
    /// </summary>
    T? TryGet<T>() where T : class;

    /// <summary>The libtorch version this engine runs on, e.g. "1.13.0" or "2.10.0": picks the PyTorch semantics
    /// that changed between versions and the golden data a test compares with.</summary>
    string LibtorchVersion { get; }

    /// <summary>libtorch's intra-op thread count (<c>torch.set_num_threads</c>).</summary>
    int NumThreads { get; set; }

    /// <summary>A new tensor holding a copy of <paramref name="data"/>: the raw little-endian bytes of
    /// <paramref name="shape"/>'s elements of <paramref name="dtype"/>, row-major (what a PyTorch file stores).</summary>
    ITensor FromBytes(ReadOnlySpan<byte> data, DType dtype, long[] shape, Device device);

    /// <summary>The loss functions of the built-in training tasks.</summary>
    ILossFunctions Losses { get; }

    /// <summary>The p-norms of each tensor (one pass per tensor, multi-tensor where available).</summary>
    ITensor[] ForeachNorm(IReadOnlyList<ITensor> tensors, double p);

    /// <summary>Whether autograd is currently recording on this thread.</summary>
    bool IsGradEnabled { get; }
}
