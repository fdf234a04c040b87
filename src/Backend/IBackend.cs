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

    /// <summary>Fused kernels for built-in policies, or null when the backend has none.</summary>
    IFusedKernels? Fused { get; }

    /// <summary>The loss functions of the built-in training tasks.</summary>
    ILossFunctions Losses { get; }

    /// <summary>The p-norms of each tensor (one pass per tensor, multi-tensor where available).</summary>
    ITensor[] ForeachNorm(IReadOnlyList<ITensor> tensors, double p);

    /// <summary>Whether autograd is currently recording on this thread.</summary>
    bool IsGradEnabled { get; }
}

/// <summary>
/// Single-pass kernels for built-in optimizer updates. A method returns false when it cannot handle
/// the given tensors (wrong device, dtype or layout); the caller then runs the tensor-op path.
/// </summary>
public interface IFusedKernels
{
    /// <summary>One Adam (decoupled = false) or AdamW (decoupled = true) step, PyTorch 1.13 semantics.
    /// <paramref name="step"/> is the step number after increment.</summary>
    bool TryAdam(ITensor param, ITensor grad, ITensor expAvg, ITensor expAvgSq, ITensor? maxExpAvgSq,
        double lr, double beta1, double beta2, double eps, double weightDecay, long step, bool decoupled, bool maximize);

    /// <summary>One SGD step, PyTorch 1.13 semantics. <paramref name="momentumBuffer"/> is null when momentum is 0;
    /// <paramref name="firstStep"/> initialises it from the gradient.</summary>
    bool TrySgd(ITensor param, ITensor grad, ITensor? momentumBuffer, double lr, double momentum, double dampening,
        double weightDecay, bool nesterov, bool firstStep, bool maximize);

    /// <summary>One Lion step as lucidrains/lion-pytorch defines it: <c>p *= 1 - lr*wd</c>,
    /// <c>p -= lr * sign(beta1*m + (1-beta1)*g)</c>, <c>m = beta2*m + (1-beta2)*g</c>.</summary>
    bool TryLion(ITensor param, ITensor grad, ITensor expAvg, double lr, double beta1, double beta2, double weightDecay);

    /// <summary>One RMSprop step, PyTorch 1.13 semantics. <paramref name="gradAvg"/> is non-null exactly when
    /// centered; <paramref name="momentumBuffer"/> exactly when momentum &gt; 0.</summary>
    bool TryRmsprop(ITensor param, ITensor grad, ITensor squareAvg, ITensor? gradAvg, ITensor? momentumBuffer,
        double lr, double alpha, double eps, double weightDecay, double momentum, bool maximize);

    /// <summary>One dense Adagrad step, PyTorch 1.13 semantics; <paramref name="clr"/> is the decayed learning rate
    /// <c>lr / (1 + (step - 1) * lr_decay)</c>.</summary>
    bool TryAdagrad(ITensor param, ITensor grad, ITensor stateSum, double clr, double eps, double weightDecay, bool maximize);

    /// <summary>shadow = decay * shadow + (1 - decay) * param for every pair (AveragedModel's EMA form).</summary>
    bool TryEma(IReadOnlyList<ITensor> shadows, IReadOnlyList<ITensor> parameters, double decay);
}
