namespace MLLrSched.Torch;

/// <summary>What kind of failure libtorch reported (mirrors native/src/shim.h's ErrorKind).</summary>
public enum TorchErrorKind
{
    /// <summary>Any other libtorch error (shape mismatch, dtype mismatch, device mismatch, ...).</summary>
    Generic = 1,
    /// <summary>An allocation failed (host or device memory).</summary>
    OutOfMemory = 2,
    /// <summary>An index was out of range.</summary>
    Index = 3,
    /// <summary>An argument had an invalid value.</summary>
    Value = 4,
    /// <summary>An argument had the wrong type or dtype.</summary>
    Type = 5,
    /// <summary>The operation is not implemented for these arguments (e.g. this dtype or device).</summary>
    NotImplemented = 6,
}

/// <summary>
/// An error reported by libtorch through the native shim. The message is libtorch's own (without
/// its C++ backtrace), so it reads as it would in Python.
/// </summary>
public class TorchException : Exception
{
    /// <summary>The kind of failure.</summary>
    public TorchErrorKind Kind { get; }

    /// <summary>Creates an exception of the given kind.</summary>
    public TorchException(string message, TorchErrorKind kind = TorchErrorKind.Generic) : base(message) => Kind = kind;
}

/// <summary>libtorch could not allocate memory for a tensor (host RAM or GPU memory).</summary>
public sealed class TorchOutOfMemoryException : TorchException
{
    /// <summary>Creates the exception.</summary>
    public TorchOutOfMemoryException(string message) : base(message, TorchErrorKind.OutOfMemory) { }
}

/// <summary>A device was requested that this libtorch build or machine does not have.</summary>
public sealed class TorchDeviceException : TorchException
{
    /// <summary>Creates the exception.</summary>
    public TorchDeviceException(string message) : base(message, TorchErrorKind.Value) { }
}
