namespace MLLrSched.Schedules;

/// <summary>The ramp shapes of Hugging Face's <c>warmup_stable_decay</c> (<see cref="HuggingFace.WarmupStableDecay"/>).</summary>
public enum WsdShape
{
    /// <summary><c>linear</c>.</summary>
    Linear,

    /// <summary><c>cosine</c>.</summary>
    Cosine,

    /// <summary><c>1-sqrt</c>.</summary>
    [SpecName("1-sqrt")]
    OneMinusSqrt,
}
