using System.Runtime.InteropServices;
using MLLrSched.Backend;
using MLLrSched.Torch.Native;
using N = MLLrSched.Torch.Native.NativeMethods;

namespace MLLrSched.Torch;

/// <summary>Process-wide libtorch settings: seeding, threads, devices, autograd mode, version.</summary>
public static class Torch
{
    /// <summary>The libtorch version the native shim was compiled against, e.g. <c>1.13.1</c>.</summary>
    public static string Version => Marshal.PtrToStringUTF8(N.mls_torch_version()) ?? "unknown";

    /// <summary>
    /// The process settings applied when libtorch was loaded: <c>OMP_WAIT_POLICY=PASSIVE</c> and glibc mmap/trim
    /// thresholds, each unless the user had set it, none with <c>MLLRSCHED_PROCESS_TUNING=0</c>. Together they make
    /// CPU training steps several times faster on small machines (docs/binding.md, "Process tuning"). Empty when
    /// nothing was applied.
    /// </summary>
    public static IReadOnlyList<string> ProcessTuning
    {
        get
        {
            _ = N.mls_torch_version();      // loading the shim applies them
            return Native.ProcessTuning.Applied;
        }
    }

    /// <summary>
    /// Seeds libtorch's default generators (CPU, and every CUDA device where present): weight
    /// initialisation, dropout, <see cref="Tensor.Rand"/> without an explicit generator.
    /// The same seed gives bit-identical results on the CPU with the same thread count.
    /// </summary>
    public static void ManualSeed(long seed) => NativeErrors.Check(N.mls_manual_seed(unchecked((ulong)seed)));

    /// <summary>
    /// Threads libtorch uses inside one op (intra-op parallelism). libtorch's default is the number of
    /// physical cores (or OMP_NUM_THREADS / MKL_NUM_THREADS when set). Applies process-wide.
    /// </summary>
    public static int NumThreads
    {
        get => N.mls_get_num_threads();
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(NumThreads), value, "NumThreads must be ≥ 1.");
            NativeErrors.Check(N.mls_set_num_threads(value));
        }
    }

    /// <summary>Threads for inter-op parallelism; settable once, before any parallel work starts.</summary>
    public static int NumInteropThreads
    {
        get => N.mls_get_num_interop_threads();
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(NumInteropThreads), value, "NumInteropThreads must be ≥ 1.");
            NativeErrors.Check(N.mls_set_num_interop_threads(value));
        }
    }

    /// <summary>Whether autograd records operations on this thread.</summary>
    public static bool IsGradEnabled => N.mls_grad_enabled() != 0;

    /// <summary>
    /// Turns autograd off on this thread until the returned scope is disposed (PyTorch's
    /// <c>torch.no_grad()</c>). Grad mode is thread-local: do not <c>await</c> across the scope.
    /// </summary>
    public static GradModeScope NoGrad() => new(false);

    /// <summary>Turns autograd on (inside a <see cref="NoGrad"/> region) until disposed.</summary>
    public static GradModeScope EnableGrad() => new(true);

    /// <summary>CUDA queries.</summary>
    public static class Cuda
    {
        /// <summary>True when libtorch was built with CUDA and a device is visible.</summary>
        public static bool IsAvailable => N.mls_cuda_is_available() != 0;
        /// <summary>Number of visible CUDA devices (0 on a CPU-only libtorch).</summary>
        public static int DeviceCount => N.mls_cuda_device_count();
        /// <summary>Waits for all work on a device (-1: the current one) to finish.</summary>
        public static void Synchronize(int device = -1) => NativeErrors.Check(N.mls_cuda_synchronize(device));
    }

    /// <summary>Throws <see cref="TorchDeviceException"/> when <paramref name="device"/> cannot be used here.</summary>
    public static void ValidateDevice(Device device)
    {
        if (!device.IsCuda) return;
        if (!Cuda.IsAvailable)
            throw new TorchDeviceException(
                $"Device '{device}' was requested, but CUDA is not available: the native shim is built against libtorch {Version} " +
                "without CUDA support, or no GPU is visible. Use device 'cpu', enable FallbackToCpu, or build the shim against a " +
                "CUDA libtorch (docs/building.md).");
        var count = Cuda.DeviceCount;
        if (device.Index >= count)
            throw new TorchDeviceException($"Device '{device}' was requested, but only {count} CUDA device(s) are visible (cuda:0..cuda:{count - 1}).");
    }

    /// <summary>
    /// The device to use for <paramref name="requested"/>: itself when available, the CPU when it is not and
    /// <paramref name="fallbackToCpu"/> is set (ML.NET's FallbackToCpu); otherwise throws <see cref="TorchDeviceException"/>.
    /// </summary>
    public static Device ResolveDevice(Device requested, bool fallbackToCpu)
    {
        try
        {
            ValidateDevice(requested);
            return requested;
        }
        catch (TorchDeviceException) when (fallbackToCpu)
        {
            return Device.Cpu;
        }
    }
}

/// <summary>Restores the previous autograd mode when disposed. See <see cref="Torch.NoGrad"/>.</summary>
public readonly struct GradModeScope : IDisposable
{
    private readonly bool _previous;

    internal GradModeScope(bool enabled)
    {
        _previous = N.mls_grad_enabled() != 0;
        N.mls_set_grad_enabled(enabled ? 1 : 0);
    }

    /// <summary>Restores the mode that was active before the scope opened.</summary>
    public void Dispose() => N.mls_set_grad_enabled(_previous ? 1 : 0);
}
