namespace MLLrSched.Schedules;

/// <summary>
/// The Noam schedule (Vaswani et al. 2017, "Attention Is All You Need", §5.3), as The Annotated Transformer's
/// <c>rate</c>: factor · model_size<sup>−0.5</sup> · min(s<sup>−0.5</sup>, s · warmup<sup>−1.5</sup>) with s = max(t, 1),
/// multiplying the base value (set lr = 1 for the paper's absolute rate) — linear warmup, then inverse square root.
/// JSON: <c>{"type": "noam", "model_size": 512, "warmup": 4000, "factor": 1.0}</c>.
/// </summary>
public sealed class NoamSchedule : FactorSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="modelSize"><c>model_size</c>: the model width d_model, ≥ 1.</param>
    /// <param name="warmup"><c>warmup</c>: warmup steps, ≥ 1 (default 4000, the paper's).</param>
    /// <param name="factor"><c>factor</c>: scale, &gt; 0 (default 1).</param>
    public NoamSchedule(long modelSize, long warmup = 4000, double factor = 1.0)
    {
        ModelSize = ScheduleGuard.AtLeast(TypeName, "model_size", modelSize, 1);
        Warmup = ScheduleGuard.AtLeast(TypeName, "warmup", warmup, 1);
        Scale = ScheduleGuard.Positive(TypeName, "factor", factor);
    }

    /// <summary><c>model_size</c>.</summary>
    public long ModelSize { get; }

    /// <summary><c>warmup</c>.</summary>
    public long Warmup { get; }

    /// <summary><c>factor</c>.</summary>
    public double Scale { get; }

    /// <inheritdoc />
    public override string TypeName => "noam";

    /// <inheritdoc />
    public override double Factor(double t, double baseValue)
    {
        var step = t == 0 ? 1 : t;
        return Scale * (Math.Pow(ModelSize, -0.5) * Math.Min(Math.Pow(step, -0.5), step * Math.Pow(Warmup, -1.5)));
    }
}
