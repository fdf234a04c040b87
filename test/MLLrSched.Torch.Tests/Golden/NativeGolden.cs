using MLLrSched.Tests.Shared;

namespace MLLrSched.Torch.Tests.Golden;

/// <summary>The golden set of the libtorch the native shim was built against.</summary>
internal static class NativeGolden
{
    private static readonly Lazy<GoldenSet?> Found = new(() => GoldenSet.For(Torch.Version));

    /// <summary>The set; a shim on a libtorch without one makes the test inconclusive, saying so.</summary>
    public static GoldenSet Set => Found.Value ?? GoldenSet.Require(Torch.Version);
}
