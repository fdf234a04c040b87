namespace MLLrSched.Schedules;

/// <summary>A pure schedule from a delegate: a factor of the base value, or a function of (t, base)
/// (<see cref="Schedule.FromFactor"/>, <see cref="Schedule.FromFunction"/>).</summary>
internal sealed class FunctionSchedule : Schedule
{
    private readonly Func<double, double>? _factor;
    private readonly Func<double, double, double>? _value;
    private readonly Action<IReadOnlyList<double>>? _check;

    /// <param name="name">The type name.</param>
    /// <param name="factor">t → factor of the base value (or null, with <paramref name="value"/>).</param>
    /// <param name="value">(t, base) → value.</param>
    /// <param name="horizon">The length.</param>
    /// <param name="check">Checks the groups' base values when bound (e.g. a floor below every lr).</param>
    public FunctionSchedule(string name, Func<double, double>? factor, Func<double, double, double>? value, double? horizon,
        Action<IReadOnlyList<double>>? check = null)
    {
        TypeName = name;
        _factor = factor;
        _value = value;
        Horizon = horizon;
        _check = check;
    }

    public override string TypeName { get; }

    public override double? Horizon { get; }

    public override void Bind(IReadOnlyList<double> baseValues) => _check?.Invoke(baseValues);

    public override double Value(double t, int group, double baseValue) =>
        _factor != null ? baseValue * _factor(t) : _value!(t, baseValue);
}
