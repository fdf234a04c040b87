using MLLrSched.Backend.Persistence;
using MLLrSched.Specs;
using MLLrSched.Training;

namespace MLLrSched.Cli;

/// <summary>Turns any exception into one message and an exit code: library and parser exceptions keep their (already
/// specific) messages without the .NET decoration; anything unexpected is an internal error whose stack trace goes to
/// a file rather than the terminal.</summary>
internal static class Errors
{
    /// <summary>The exit code and message for <paramref name="e"/>.</summary>
    /// <param name="e">What was thrown.</param>
    /// <param name="training">True once training has started (the run folder is in use): input errors are no longer
    /// possible then, so an argument error is a bug and an I/O error a failure of the machine.</param>
    public static (int Code, string Message) Describe(Exception e, bool training)
    {
        switch (e)
        {
            case CliException c: return (c.ExitCode, c.Message);
            case AggregateException { InnerExceptions.Count: 1 } a: return Describe(a.InnerException!, training);
            case NonFiniteGradientException: return (ExitCodes.Diverged, e.Message);
            case OutOfMemoryException or InsufficientMemoryException:
                return (ExitCodes.Failed, "out of memory" + (training ? " while training" : "") +
                    ". Use a smaller batch_size, model or train_subset, or a machine with more memory" + (training ? "; --resume continues from the last checkpoint." : "."));
            case CheckpointException: return (ExitCodes.InvalidInput, e.Message);
            case TorchSerializationException when !training: return (ExitCodes.InvalidInput, e.Message);
            case FileNotFoundException or DirectoryNotFoundException when !training: return (ExitCodes.InvalidInput, e.Message);
            case InvalidDataException when !training: return (ExitCodes.InvalidInput, e.Message);
            case SpecException when !training: return (ExitCodes.InvalidInput, e.Message);
            case ArgumentException a when !training: return (ExitCodes.InvalidInput, Clean(a));
            case OverflowException when !training: return (ExitCodes.InvalidInput, $"a number is too large: {e.Message}");
            case UnauthorizedAccessException:
                return (training ? ExitCodes.Failed : ExitCodes.InvalidInput, $"permission denied: {e.Message}");
            case IOException io:
                var full = io.HResult == 28 || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
                // A full disk is the machine's failure whenever it happens; other I/O errors before training concern the input.
                return (training || full ? ExitCodes.Failed : ExitCodes.InvalidInput,
                    (full ? "the disk is full: " : "I/O error: ") + io.Message + (training ? " The last checkpoint is intact; free space or fix the cause, then --resume." : ""));
            // An engine's own allocation failure (libtorch's "DefaultCPUAllocator: can't allocate memory", CUDA's "out of
            // memory") comes as the engine's exception type, which the CLI does not name.
            case { Message: var m } when m.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase) || m.Contains("out of memory", StringComparison.OrdinalIgnoreCase):
                return (ExitCodes.Failed, "out of memory: " + m.Split('\n')[0] + " Use a smaller batch_size or model" + (training ? "; --resume continues from the last checkpoint." : "."));
            default:
                return (ExitCodes.InternalError, $"internal error (a bug): {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>An argument exception's message without ".NET" decoration (parameter names, actual values).</summary>
    public static string Clean(ArgumentException e)
    {
        var m = e.Message;
        var cut = m.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0) m = m[..cut];
        cut = m.IndexOf("\nActual value was", StringComparison.Ordinal);
        return cut >= 0 ? m[..cut] : m;
    }

    /// <summary>Writes <paramref name="e"/>'s full details to <paramref name="folder"/>/error.log (or a file in the temp
    /// folder when none) and returns its path, or null when even that fails.</summary>
    public static string? WriteDetails(Exception e, string? folder)
    {
        try
        {
            var path = folder != null && Directory.Exists(folder)
                ? Path.Combine(folder, "error.log")
                : Path.Combine(Path.GetTempPath(), $"mllrsched-error-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
            File.WriteAllText(path, $"mllrsched {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}\n{DateTime.UtcNow:O}\n\n{e}\n");
            return path;
        }
        catch (Exception) { return null; }
    }

    /// <summary>Reports <paramref name="e"/> on standard error and returns its exit code.</summary>
    public static int Report(Exception e, bool training, string? folder)
    {
        var (code, message) = Describe(e, training);
        if (code == ExitCodes.InternalError && WriteDetails(e, folder) is { } details)
            message += $" Details: {details}. Please report it.";
        Console.Error.WriteLine("error: " + message);
        return code;
    }
}
