namespace MLLrSched.Schedules;

/// <summary>
/// timm's schedule noise on any schedule: within the noise range the value is multiplied by (1 + n), n drawn from
/// a generator seeded with noise_seed + t — so n depends only on (seed, t) and resuming reproduces it. The draws
/// are PyTorch's CPU generator's, bit for bit (timm uses <c>torch.randn</c>/<c>torch.rand</c> with
/// <c>manual_seed(noise_seed + t)</c>), so the noise equals timm's.
/// </summary>
/// <remarks>timm stores noise_std but does not use it; here the normal draw is scaled by noise_std before the
/// noise_pct test, which with the default 1.0 is timm's behaviour.</remarks>
public sealed class Noise : ScheduleWrapper
{
    private readonly TorchCpuGenerator _generator = new();
    private long _cachedT = long.MinValue;
    private double _cachedNoise;

    /// <summary>Creates the noise.</summary>
    /// <param name="inner">The schedule.</param>
    /// <param name="rangeStart">Noise applies from this t (<c>noise_range_t</c>, or its first element), ≥ 0.</param>
    /// <param name="rangeEnd">…until before this t (the second element of <c>noise_range_t</c>); null: forever.</param>
    /// <param name="noisePct"><c>noise_pct</c>: bound on |n|, &gt; 0 (default 0.67).</param>
    /// <param name="noiseStd"><c>noise_std</c>: scale of the normal draw, &gt; 0 (default 1).</param>
    /// <param name="noiseType"><c>noise_type</c>: normal (default) or uniform.</param>
    /// <param name="noiseSeed"><c>noise_seed</c>: the seed (default 42).</param>
    public Noise(Schedule inner, double rangeStart, double? rangeEnd = null, double noisePct = 0.67, double noiseStd = 1.0,
        NoiseType noiseType = NoiseType.Normal, long noiseSeed = 42) : base(inner)
    {
        RangeStart = ScheduleGuard.NonNegative(inner.TypeName, "noise_range_t", rangeStart);
        if (rangeEnd is { } end && !(end > rangeStart))
            throw new ArgumentOutOfRangeException("noise_range_t",
                $"{inner.TypeName}: noise_range_t must be [start, end) with end > start, got [{ScheduleGuard.F(rangeStart)}, {ScheduleGuard.F(end)}].");
        RangeEnd = rangeEnd;
        NoisePct = ScheduleGuard.Positive(inner.TypeName, "noise_pct", noisePct);
        NoiseStd = ScheduleGuard.Positive(inner.TypeName, "noise_std", noiseStd);
        NoiseType = noiseType;
        NoiseSeed = noiseSeed;
    }

    /// <summary>First t with noise.</summary>
    public double RangeStart { get; }

    /// <summary>First t without noise again, or null.</summary>
    public double? RangeEnd { get; }

    /// <summary><c>noise_pct</c>.</summary>
    public double NoisePct { get; }

    /// <summary><c>noise_std</c>.</summary>
    public double NoiseStd { get; }

    /// <summary><c>noise_type</c>.</summary>
    public NoiseType NoiseType { get; }

    /// <summary><c>noise_seed</c>.</summary>
    public long NoiseSeed { get; }

    /// <summary>True when t is in the noise range.</summary>
    public bool Applies(double t) => RangeEnd is { } end ? RangeStart <= t && t < end : t >= RangeStart;

    /// <summary>The relative perturbation n at step <paramref name="t"/> (whole steps; fractional t uses its floor).</summary>
    public double NoiseAt(double t)
    {
        var step = (long)Math.Floor(t);
        if (step == _cachedT) return _cachedNoise;
        _generator.ManualSeed((ulong)(NoiseSeed + step));
        double n;
        if (NoiseType == NoiseType.Normal)
        {
            var tries = 0;
            while (true)
            {
                n = _generator.Randn() * NoiseStd;
                if (Math.Abs(n) < NoisePct) break;
                if (++tries > 100_000)
                    throw new InvalidOperationException($"noise: no normal draw below noise_pct = {NoisePct} in 100000 tries; raise noise_pct or lower noise_std.");
            }
        }
        else
        {
            n = 2 * (_generator.Rand() - 0.5) * NoisePct;
        }
        _cachedT = step;
        _cachedNoise = n;
        return n;
    }

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue)
    {
        var v = Inner.Value(t, group, baseValue);
        return Applies(t) ? v + v * NoiseAt(t) : v;
    }
}
