namespace MLLrSched.Schedules;

/// <summary>The distribution of timm's schedule noise.</summary>
public enum NoiseType
{
    /// <summary><c>normal</c>: a standard normal draw, redrawn until its magnitude is below noise_pct.</summary>
    Normal,

    /// <summary><c>uniform</c>: uniform in [−noise_pct, noise_pct).</summary>
    Uniform,
}
