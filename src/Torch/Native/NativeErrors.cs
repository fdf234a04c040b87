using System.Runtime.InteropServices;

namespace MLLrSched.Torch.Native;

/// <summary>Turns the shim's error slot into .NET exceptions.</summary>
internal static class NativeErrors
{
    public static Exception Last()
    {
        var kind = (TorchErrorKind)NativeMethods.mls_last_error_kind();
        var message = Marshal.PtrToStringUTF8(NativeMethods.mls_last_error()) ?? "unknown libtorch error";
        return kind == TorchErrorKind.OutOfMemory
            ? new TorchOutOfMemoryException(message)
            : new TorchException(message, kind == 0 ? TorchErrorKind.Generic : kind);
    }

    /// <summary>Throws the pending error when <paramref name="rc"/> is non-zero.</summary>
    public static void Check(int rc)
    {
        if (rc != 0) throw Last();
    }

    /// <summary>Throws the pending error when <paramref name="handle"/> is null; returns it otherwise.</summary>
    public static IntPtr Check(IntPtr handle)
    {
        if (handle == IntPtr.Zero) throw Last();
        return handle;
    }
}
