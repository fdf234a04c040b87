using MLLrSched.Backend.Engines;

namespace MLLrSched.TorchSharp.Tests;

/// <summary>Starts the engine before any test touches TorchSharp, as an application does: the engine's process settings
/// (MKL_CBWR, see docs/torchsharp.md) must be in place before libtorch's first matrix product.</summary>
[TestClass]
public static class TestAssembly
{
    [AssemblyInitialize]
    public static void StartEngine(TestContext _) => EngineRegistry.Load("torchsharp");
}
