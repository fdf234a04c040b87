namespace MLLrSched.Schedules;

/// <summary>Hugging Face <c>constant</c> (<c>get_constant_schedule</c>): the base value throughout.
/// JSON: <c>{"type": "constant"}</c> — with the timm keys, e.g. <c>warmup_t</c>, it is a plain warmup.</summary>
public sealed class ConstantSchedule : FactorSchedule
{
    /// <inheritdoc />
    public override string TypeName => "constant";

    /// <inheritdoc />
    public override double Factor(double t, double baseValue) => 1;
}
