namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's CPU generator (MT19937) and the two draws timm's noise uses — <c>torch.randn(1)</c> and
/// <c>torch.rand(1)</c> in float32 — reproduced bit for bit without touching tensors. The state is seeded lazily:
/// a draw right after seeding needs only ~400 of the 624 state words.
/// </summary>
internal sealed class TorchCpuGenerator
{
    private const int N = 624, M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _seeded;
    private int _twisted;
    private int _next;
    private double? _nextNormal;

    /// <summary>torch.Generator.manual_seed: the low 32 bits seed the engine; the cached normal is dropped.</summary>
    public void ManualSeed(ulong seed)
    {
        _mt[0] = (uint)(seed & 0xffffffff);
        _seeded = 1;
        _twisted = 0;
        _next = 0;
        _nextNormal = null;
    }

    private void SeedTo(int n)
    {
        if (_seeded >= n) return;
        var mt = _mt;
        var prev = mt[_seeded - 1];
        for (var j = _seeded; j < n; j++)
        {
            prev = 1812433253u * (prev ^ (prev >> 30)) + (uint)j;
            mt[j] = prev;
        }
        _seeded = n;
    }

    /// <summary>One 32-bit output of the engine.</summary>
    public uint Next32()
    {
        if (_next == N)
        {
            _next = 0;
            _twisted = 0;
        }
        var i = _next;
        if (_twisted <= i)
        {
            SeedTo(Math.Min(N, i + M + 1));
            var u = _mt[i];
            var v = _mt[(i + 1) % N];
            var mixed = (u & 0x80000000u) | (v & 0x7fffffffu);
            _mt[i] = _mt[(i + M) % N] ^ (mixed >> 1) ^ ((v & 1) != 0 ? 0x9908b0dfu : 0);
            _twisted = i + 1;
        }
        var y = _mt[i];
        _next++;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    private ulong Next64()
    {
        var hi = Next32();
        var lo = Next32();
        return ((ulong)hi << 32) | lo;
    }

    private double UniformDouble() => (Next64() & ((1UL << 53) - 1)) * (1.0 / (1UL << 53));

    /// <summary><c>torch.randn(1, generator=g).item()</c>: Box–Muller in double, the sine half cached for the next call.</summary>
    public double Randn()
    {
        if (_nextNormal is { } cached)
        {
            _nextNormal = null;
            return (float)cached;
        }
        var u1 = UniformDouble();
        var u2 = UniformDouble();
        var r = Math.Sqrt(-2.0 * Math.Log(1.0 - u2));
        var theta = 2.0 * Math.PI * u1;
        _nextNormal = r * Math.Sin(theta);
        return (float)(r * Math.Cos(theta));
    }

    /// <summary><c>torch.rand(1, generator=g).item()</c>: 24 random bits.</summary>
    public double Rand() => (float)((Next32() & ((1u << 24) - 1)) * (1.0 / (1u << 24)));
}
