namespace MLLrSched.Data;

/// <summary>
/// Deterministic shuffling: the permutation of epoch e is a pure function of (seed, e), so a resumed run
/// reproduces the exact batch order from nothing but the seed and its position.
/// </summary>
/// <remarks>
/// Written by hand (SplitMix64 + Fisher–Yates, ~20 lines) because <see cref="Random"/>'s seeded sequence is not
/// guaranteed to stay the same across .NET versions, and a checkpoint must replay identically on any of them.
/// </remarks>
internal static class SeededShuffle
{
    /// <summary>A permutation of 0..n-1 for <paramref name="epoch"/>.</summary>
    public static int[] Permutation(int n, long seed, long epoch)
    {
        var p = new int[n];
        for (var i = 0; i < n; i++) p[i] = i;
        var state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)epoch * 0xD1B54A32D192ED03UL);
        for (var i = n - 1; i > 0; i--)
        {
            var j = (int)(Next(ref state) % (ulong)(i + 1));
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    private static ulong Next(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
