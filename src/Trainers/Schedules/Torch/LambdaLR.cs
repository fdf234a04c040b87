namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>LambdaLR</c>: value = base · lr_lambda(t). The lambda must be a pure function of t — that is what
/// makes resuming exact; a factor with its own state belongs in a schedule that implements
/// <see cref="IStatefulSchedule"/>. JSON: <c>{"type": "LambdaLR", "lr_lambda": "0.95 ** epoch"}</c> (a safe
/// Python-like expression in <c>epoch</c>, or a list of them, one per group).
/// </summary>
public sealed class LambdaLR : Schedule
{
    private readonly GroupFunctions _fns;

    /// <summary>Creates the schedule.</summary>
    /// <param name="lrLambda"><c>lr_lambda</c>: t → multiplicative factor of the base value, one for every group or one per
    /// group; in JSON an expression in <c>epoch</c>, or a list of them.</param>
    public LambdaLR([SpecExpression("epoch", "step", "t", Example = "0.95 ** epoch")] params IReadOnlyList<Func<double, double>> lrLambda) =>
        _fns = new GroupFunctions(lrLambda, "LambdaLR");

    /// <inheritdoc />
    public override string TypeName => "LambdaLR";

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues) => _fns.CheckGroupCount(baseValues.Count);

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue) => baseValue * _fns[group](t);
}
