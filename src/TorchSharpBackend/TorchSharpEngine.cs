using System.Reflection;
using MLLrSched.Backend;
using MLLrSched.Backend.Engines;
using MLLrSched.TorchSharpBackend;
using TorchSharp;

[assembly: MLLrSchedEngine(typeof(TorchSharpEngine))]

namespace MLLrSched.TorchSharpBackend;

/// <summary>
/// The TorchSharp engine: <see cref="TorchSharpBackend"/> over the libtorch that TorchSharp's packages bring
/// (TorchSharp-cpu, or TorchSharp-cuda-linux for GPUs). Found by name: <c>EngineRegistry.Load("torchsharp")</c>.
/// </summary>
/// <remarks>Creating it loads TorchSharp's native library and fails with an <see cref="InvalidOperationException"/>
/// saying what is missing (the C++ runtime it needs, or the libtorch package) instead of TorchSharp's first failing
/// call deep inside training.</remarks>
public sealed class TorchSharpEngine : IEngine
{
    /// <summary>Loads TorchSharp's native library and libtorch.</summary>
    /// <exception cref="InvalidOperationException">They do not load here; the message says why and what to install.</exception>
    public TorchSharpEngine()
    {
        TorchSharpNativeLibrary.EnsureLoaded();
        Description = Describe();
    }

    /// <inheritdoc />
    public string Name => "torchsharp";

    /// <inheritdoc />
    public IBackend Backend => TorchSharpBackend.Instance;

    /// <inheritdoc />
    public string Description { get; }

    /// <summary>The TorchSharp package version this process runs (e.g. "0.107.0").</summary>
    public static string TorchSharpVersion =>
        (typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
         ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "?").Split('+')[0];

    private static string Describe()
    {
        var devices = torch.cuda.is_available() ? $"CUDA ({torch.cuda.device_count()} device(s)) and CPU" : "CPU";
        var settings = ProcessSettings.Applied is { Count: > 0 } applied ? $"; process settings: {string.Join(", ", applied)}" : "";
        return $"TorchSharp {TorchSharpVersion}, libtorch {TorchSharpBackend.Instance.LibtorchVersion}, {devices}{settings}";
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Description}";
}
