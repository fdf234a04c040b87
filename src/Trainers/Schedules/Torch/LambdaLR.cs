namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>LambdaLR</c>: value = base · lr_lambda(t). The lambda must be a pure function of t — that is what
/// makes resuming exact; a factor with its own state belongs in a <see cref="Schedule"/> subclass that saves it.
/// JSON: <c>{"type": "LambdaLR", "lr_lambda": "0.95 ** epoch"}</c> (a safe Python-like expression in <c>epoch</c>,
/// or a list of them, one per group).
/// </summary>
public sealed class LambdaLR : Schedule
{
    private readonly GroupFunctions _fns;

    /// <summary>One factor function for every group.</summary>
    /// <param name="lrLambda">t → multiplicative factor of the base value.</param>
    public LambdaLR(Func<double, double> lrLambda) : this(new[] { lrLambda }) { }

    /// <summary>One factor function per group (or a single one for all).</summary>
    public LambdaLR(IReadOnlyList<Func<double, double>> lrLambdas) => _fns = new GroupFunctions(lrLambdas, "LambdaLR");

    /// <inheritdoc />
    public override string TypeName => "LambdaLR";

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues) => _fns.CheckGroupCount(baseValues.Count);

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue) => baseValue * _fns[group](t);
}
