namespace MLLrSched.Schedules;

/// <summary>
/// BERT's <c>warmup_linear(x, warmup)</c> (pytorch-pretrained-BERT's BERTAdam schedule) over the training fraction
/// x = t / t_total: x / warmup while x &lt; warmup, then 1 − x. As in the original, the factor keeps falling (below 0)
/// past t_total. JSON: <c>{"type": "warmup_linear", "t_total": 10000, "warmup": 0.1}</c>.
/// </summary>
public sealed class BertWarmupLinear : FactorSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="tTotal"><c>t_total</c>: total training steps, ≥ 1.</param>
    /// <param name="warmup"><c>warmup</c>: warmup as a fraction of t_total, in [0, 1) (default 0.002).</param>
    public BertWarmupLinear(long tTotal, double warmup = 0.002)
    {
        TTotal = ScheduleGuard.AtLeast(TypeName, "t_total", tTotal, 1);
        if (!(warmup >= 0 && warmup < 1)) ScheduleGuard.Fail(TypeName, "warmup", "in [0, 1)", warmup);
        Warmup = warmup;
    }

    /// <summary><c>t_total</c>.</summary>
    public long TTotal { get; }

    /// <summary><c>warmup</c>.</summary>
    public double Warmup { get; }

    /// <inheritdoc />
    public override string TypeName => "warmup_linear";

    /// <inheritdoc />
    public override double? Horizon => TTotal;

    /// <inheritdoc />
    public override double Factor(double t, double baseValue)
    {
        var x = t / TTotal;
        return x < Warmup ? x / Warmup : 1.0 - x;
    }
}
