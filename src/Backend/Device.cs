using System.Globalization;

namespace MLLrSched.Backend;

/// <summary>Kind of device; the values are libtorch's <c>c10::DeviceType</c> codes.</summary>
public enum DeviceType
{
    /// <summary>The host CPU.</summary>
    Cpu = 0,
    /// <summary>An NVIDIA GPU through CUDA.</summary>
    Cuda = 1,
}

/// <summary>
/// A compute device, written as PyTorch writes it: <c>cpu</c>, <c>cuda</c> (the current CUDA device) or
/// <c>cuda:N</c>.
/// </summary>
/// <param name="Type">CPU or CUDA.</param>
/// <param name="Index">Device ordinal; -1 means "the current device" (always -1 for the CPU).</param>
public readonly record struct Device(DeviceType Type, int Index = -1)
{
    /// <summary>The CPU.</summary>
    public static readonly Device Cpu = new(DeviceType.Cpu);

    /// <summary>CUDA device <paramref name="index"/> (0 by default).</summary>
    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    /// <summary>True for CUDA devices.</summary>
    public bool IsCuda => Type == DeviceType.Cuda;

    /// <summary>Parses <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The text is not a device name; the message lists the valid forms.</exception>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "cuda") return new Device(DeviceType.Cuda);
        if (t == "gpu") throw new ArgumentException($"Unknown device '{text}': PyTorch calls it 'cuda'. Valid: 'cpu', 'cuda', 'cuda:N' (N = 0, 1, ...).", nameof(text));
        if (t.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(t.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            return new Device(DeviceType.Cuda, i);
        throw new ArgumentException($"Unknown device '{text}'. Valid: 'cpu', 'cuda', 'cuda:N' (N = 0, 1, ...).", nameof(text));
    }

    /// <inheritdoc />
    public override string ToString() => Type switch
    {
        DeviceType.Cpu => "cpu",
        _ => Index < 0 ? "cuda" : $"cuda:{Index}",
    };
}
