using MLLrSched.Backend;
using MLLrSched.Backend.Engines;
using MLLrSched.TorchSharpBackend;

namespace MLLrSched.Tests.PolicySuite;

/// <summary>The engine-neutral policy suite (test/Shared/PolicySuite) runs here on the TorchSharp engine (TorchSharp
/// 0.107, libtorch 2.10 with MKL), against the torch-2.6 golden set, with per-case optimizer tolerances measured for
/// this libtorch build (tools/golden/torchsharp_tolerances.sh).</summary>
internal static class SuiteEngine
{
    private static readonly Lazy<IEngine> Engine = new(() => EngineRegistry.Load("torchsharp"));

    /// <summary>The engine's backend.</summary>
    public static IBackend Backend => Engine.Value.Backend;

    /// <summary>What the optimizer tolerances were measured for: the TorchSharp package and its libtorch.</summary>
    public static string ToleranceKey => $"TorchSharp {TorchSharpEngine.TorchSharpVersion}, libtorch {Backend.LibtorchVersion}";

    /// <summary>The per-case optimizer tolerances, relative to the golden set (measured, with reasons).</summary>
    public const string OptimizerTolerances = "optimizers/torchsharp.json";
}
