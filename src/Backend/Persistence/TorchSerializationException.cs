namespace MLLrSched.Backend.Persistence;

/// <summary>Why a PyTorch file could not be read.</summary>
public enum TorchSerializationError
{
    /// <summary>The bytes are not a readable <c>torch.save</c> zip file: truncated, corrupt, or another format.</summary>
    Corrupt = 1,
    /// <summary>The file is valid, but holds Python objects outside the supported subset (a pickled
    /// <c>nn.Module</c>, a numpy value, an arbitrary class, the legacy pre-1.6 format, a TorchScript archive).</summary>
    UnsupportedContent = 2,
    /// <summary>A tensor has a dtype the reader does not support (complex, quantized, float8, ...).</summary>
    UnsupportedDType = 3,
}

/// <summary>
/// A PyTorch file (<c>torch.save</c> format) could not be read. The message says what was found and
/// what would have been valid; <see cref="Error"/> classifies the failure and <see cref="FilePath"/>
/// names the file when there is one.
/// </summary>
public sealed class TorchSerializationException : IOException
{
    /// <summary>The kind of failure.</summary>
    public TorchSerializationError Error { get; }

    /// <summary>The file being read, or null when reading from bytes or a stream.</summary>
    public string? FilePath { get; }

    /// <summary>Creates the exception.</summary>
    public TorchSerializationException(TorchSerializationError error, string message, string? filePath = null, Exception? inner = null)
        : base(filePath == null ? message : $"{filePath}: {message}", inner)
    {
        Error = error;
        FilePath = filePath;
    }

    internal static TorchSerializationException Corrupt(string detail, Exception? inner = null) =>
        new(TorchSerializationError.Corrupt, "not a PyTorch zip file, or truncated: " + detail, null, inner);

    internal static TorchSerializationException Unsupported(string detail) =>
        new(TorchSerializationError.UnsupportedContent, detail);

    /// <summary>The same failure, with the file name in front of the message.</summary>
    internal TorchSerializationException WithFile(string filePath) =>
        FilePath != null ? this : new(Error, Message, filePath, InnerException);
}
