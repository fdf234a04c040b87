namespace MLLrSched.Schedules;

/// <summary>
/// Hugging Face <c>polynomial</c> (<c>get_polynomial_decay_schedule_with_warmup</c>): linear warmup, then
/// value = (base − lr_end) · (1 − progress)<sup>power</sup> + lr_end, and lr_end past num_training_steps.
/// JSON: <c>{"type": "polynomial", "num_warmup_steps": 100, "num_training_steps": 1000, "lr_end": 1e-7, "power": 1.0}</c>.
/// </summary>
/// <remarks>Hugging Face takes lr_init from the optimizer's default lr; here each group uses its own base value
/// (identical with one group, and every group then ends at lr_end).</remarks>
public sealed class PolynomialDecayScheduleWithWarmup : FactorSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="numWarmupSteps"><c>num_warmup_steps</c>, ≥ 0.</param>
    /// <param name="numTrainingSteps"><c>num_training_steps</c>, &gt; num_warmup_steps.</param>
    /// <param name="lrEnd"><c>lr_end</c>: final value (default 1e-7), ≥ 0 and below every group's lr.</param>
    /// <param name="power"><c>power</c>: exponent (default 1), ≥ 0.</param>
    public PolynomialDecayScheduleWithWarmup(long numWarmupSteps, long numTrainingSteps, double lrEnd = 1e-7, double power = 1.0)
    {
        NumWarmupSteps = ScheduleGuard.AtLeast(TypeName, "num_warmup_steps", numWarmupSteps, 0);
        NumTrainingSteps = ScheduleGuard.AtLeast(TypeName, "num_training_steps", numTrainingSteps, numWarmupSteps + 1);
        LrEnd = ScheduleGuard.NonNegative(TypeName, "lr_end", lrEnd);
        Power = ScheduleGuard.NonNegative(TypeName, "power", power);
    }

    /// <summary><c>num_warmup_steps</c>.</summary>
    public long NumWarmupSteps { get; }

    /// <summary><c>num_training_steps</c>.</summary>
    public long NumTrainingSteps { get; }

    /// <summary><c>lr_end</c>.</summary>
    public double LrEnd { get; }

    /// <summary><c>power</c>.</summary>
    public double Power { get; }

    /// <inheritdoc />
    public override string TypeName => "polynomial";

    /// <inheritdoc />
    public override double? Horizon => NumTrainingSteps;

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues)
    {
        for (var g = 0; g < baseValues.Count; g++)
            if (!(baseValues[g] > LrEnd))
                throw new ArgumentOutOfRangeException("lr_end",
                    $"polynomial: lr_end ({ScheduleGuard.F(LrEnd)}) must be smaller than the initial lr ({ScheduleGuard.F(baseValues[g])}) of parameter group {g}.");
    }

    /// <inheritdoc />
    public override double Factor(double t, double lrInit)
    {
        if (t < NumWarmupSteps) return WarmupFactor(t, NumWarmupSteps);
        if (t > NumTrainingSteps) return LrEnd / lrInit;
        var lrRange = lrInit - LrEnd;
        var decaySteps = NumTrainingSteps - NumWarmupSteps;
        var pctRemaining = 1 - (t - NumWarmupSteps) / decaySteps;
        var decay = lrRange * Math.Pow(pctRemaining, Power) + LrEnd;
        return decay / lrInit;
    }
}
