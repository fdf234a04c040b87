namespace MLLrSched.Schedules;

/// <summary>Classic warmup schedules from papers and their reference code, as factor functions of the base value.</summary>
public static class Classic
{
    /// <summary>
    /// The Noam schedule (Vaswani et al. 2017, "Attention Is All You Need", §5.3), as The Annotated Transformer's
    /// <c>rate</c>: factor · model_size<sup>−0.5</sup> · min(s<sup>−0.5</sup>, s · warmup<sup>−1.5</sup>) with s = max(t, 1),
    /// multiplying the base value (set lr = 1 for the paper's absolute rate) — linear warmup, then inverse square root.
    /// JSON: <c>{"type": "noam", "model_size": 512, "warmup": 4000, "factor": 1.0}</c>.
    /// </summary>
    /// <param name="modelSize"><c>model_size</c>: the model width d_model, ≥ 1.</param>
    /// <param name="warmup"><c>warmup</c>: warmup steps (the paper's 4000), ≥ 1.</param>
    /// <param name="factor"><c>factor</c>: scale, &gt; 0.</param>
    public static Schedule Noam(long modelSize, long warmup = 4000, double factor = 1.0)
    {
        ScheduleGuard.AtLeast("noam", "model_size", modelSize, 1);
        ScheduleGuard.AtLeast("noam", "warmup", warmup, 1);
        ScheduleGuard.Positive("noam", "factor", factor);
        return new FunctionSchedule("noam", t =>
        {
            var step = t == 0 ? 1 : t;
            return factor * (Math.Pow(modelSize, -0.5) * Math.Min(Math.Pow(step, -0.5), step * Math.Pow(warmup, -1.5)));
        }, null, null);
    }

    /// <summary>
    /// BERT's <c>warmup_linear(x, warmup)</c> (pytorch-pretrained-BERT's BERTAdam schedule) over the training fraction
    /// x = t / t_total: x / warmup while x &lt; warmup, then 1 − x. As in the original, the factor keeps falling (below 0)
    /// past t_total. JSON: <c>{"type": "warmup_linear", "t_total": 10000, "warmup": 0.1}</c>.
    /// </summary>
    /// <param name="tTotal"><c>t_total</c>: total training steps, ≥ 1.</param>
    /// <param name="warmup"><c>warmup</c>: warmup as a fraction of t_total, in [0, 1).</param>
    public static Schedule BertWarmupLinear(long tTotal, double warmup = 0.002)
    {
        ScheduleGuard.AtLeast("warmup_linear", "t_total", tTotal, 1);
        if (!(warmup >= 0 && warmup < 1)) ScheduleGuard.Fail("warmup_linear", "warmup", "in [0, 1)", warmup);
        return new FunctionSchedule("warmup_linear", t =>
        {
            var x = t / tTotal;
            return x < warmup ? x / warmup : 1.0 - x;
        }, null, tTotal);
    }
}
