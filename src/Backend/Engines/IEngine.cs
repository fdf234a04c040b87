namespace MLLrSched.Backend.Engines;

/// <summary>
/// A tensor engine: one libtorch binding, its backend and what it can build. Engines live in their own assemblies
/// (MLLrSched.Torch: the native binding over the system's libtorch; MLLrSched.TorchSharp: TorchSharp's libtorch) and
/// are found by name at run time (<see cref="EngineRegistry"/>), so nothing above the seam references an engine and
/// a process never loads two libtorch builds (they crash each other in static initialisation).
/// </summary>
public interface IEngine
{
    /// <summary>"native" or "torchsharp".</summary>
    string Name { get; }
    /// <summary>The engine's backend (tensors, scopes, randomness, capabilities).</summary>
    IBackend Backend { get; }
    /// <summary>What the engine runs on, for logs: e.g. "libtorch 1.13.0 (Debian), CPU" or "TorchSharp 0.107.0, libtorch 2.10.0, CPU".</summary>
    string Description { get; }
}

/// <summary>Marks the class an engine assembly exposes; it needs a public parameterless constructor.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class MLLrSchedEngineAttribute(Type engineType) : Attribute
{
    /// <summary>The <see cref="IEngine"/> implementation.</summary>
    public Type EngineType { get; } = engineType;
}
