using MLLrSched.Backend;
using MLLrSched.Backend.Engines;

namespace MLLrSched.Tests.PolicySuite;

/// <summary>The engine-neutral policy suite (test/Shared/PolicySuite) runs here on the native engine: MLLrSched's own
/// binding over the system's libtorch (Debian 12: 1.13; in the Debian 13 leg: 2.6), against that version's golden set,
/// with PyTorch's own cross-CPU variation as the optimizers' tolerance.</summary>
internal static class SuiteEngine
{
    private static readonly Lazy<IEngine> Engine = new(() => EngineRegistry.Load("native"));

    /// <summary>The engine's backend.</summary>
    public static IBackend Backend => Engine.Value.Backend;

    /// <summary>What the optimizer tolerances were measured for (variation.json is PyTorch's own and names no engine).</summary>
    public static string ToleranceKey => $"native libtorch {Backend.LibtorchVersion}";

    /// <summary>The per-case optimizer tolerances, relative to the golden set: PyTorch's cross-CPU variation (×10).</summary>
    public const string OptimizerTolerances = "optimizers/variation.json";
}
