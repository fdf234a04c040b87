using MLLrSched.Backend;
using MLLrSched.Backend.Engines;

[assembly: MLLrSchedEngine(typeof(MLLrSched.Torch.NativeEngine))]

namespace MLLrSched.Torch;

/// <summary>
/// The native engine: MLLrSched's own binding over the system's libtorch (Debian's 1.13 or 2.6, or one built from
/// pytorch.org), with fused CPU kernels and bit-exact parity with the PyTorch of the same libtorch. Loading it loads the
/// shim and libtorch, and fails with what is missing.
/// </summary>
public sealed class NativeEngine : IEngine
{
    /// <summary>Loads the shim and libtorch.</summary>
    /// <exception cref="DllNotFoundException">The shim or libtorch is missing (the message says how to get them).</exception>
    public NativeEngine() => Description = $"native libtorch {Torch.Version}, CPU{(Torch.Cuda.IsAvailable ? " + CUDA" : "")}, {Torch.NumThreads} threads" +
        (Torch.ProcessTuning.Count > 0 ? $"; process tuning: {string.Join(", ", Torch.ProcessTuning)}" : "");

    /// <inheritdoc />
    public string Name => "native";
    /// <inheritdoc />
    public IBackend Backend => NativeBackend.Instance;
    /// <inheritdoc />
    public string Description { get; }
}
