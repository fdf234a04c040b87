using System.Text.Json.Nodes;

namespace MLLrSched.Schedules;

/// <summary>
/// PyTorch's <c>MultiplicativeLR</c>: each step multiplies the value by lr_lambda(t), so
/// value(t) = base · Π<sub>s=1..t</sub> lr_lambda(s). The running product is cached and saved as state so that
/// stepping and resuming cost O(1); evaluating at an earlier t recomputes the product. JSON:
/// <c>{"type": "MultiplicativeLR", "lr_lambda": "0.95"}</c>.
/// </summary>
public sealed class MultiplicativeLR : Schedule, IStatefulSchedule, IChainableSchedule
{
    private readonly GroupFunctions _fns;
    private long[] _t = Array.Empty<long>();
    private double[] _product = Array.Empty<double>();

    /// <summary>Creates the schedule.</summary>
    /// <param name="lrLambda"><c>lr_lambda</c>: t → the factor applied at step t (t ≥ 1), one for every group or one per
    /// group; in JSON an expression in <c>epoch</c>, or a list of them.</param>
    public MultiplicativeLR([SpecExpression("epoch", "step", "t", Example = "0.95")] params IReadOnlyList<Func<double, double>> lrLambda) =>
        _fns = new GroupFunctions(lrLambda, "MultiplicativeLR");

    /// <inheritdoc />
    public override string TypeName => "MultiplicativeLR";

    /// <inheritdoc />
    public override void Bind(IReadOnlyList<double> baseValues)
    {
        _fns.CheckGroupCount(baseValues.Count);
        _t = new long[baseValues.Count];
        _product = Enumerable.Repeat(1.0, baseValues.Count).ToArray();
    }

    /// <inheritdoc />
    public override double Value(double t, int group, double baseValue)
    {
        EnsureBound(group);
        var target = (long)Math.Floor(t);
        if (target < _t[group])
        {
            _t[group] = 0;
            _product[group] = 1.0;
        }
        var f = _fns[group];
        while (_t[group] < target)
        {
            _t[group]++;
            _product[group] *= f(_t[group]);
        }
        return baseValue * _product[group];
    }

    /// <inheritdoc />
    public double ChainStep(long t, int group, double current, double baseValue) =>
        t > 0 ? current * _fns[group](t) : current;

    /// <inheritdoc />
    public bool ContinuesFromCurrentValue => true;

    /// <inheritdoc />
    public JsonObject? SaveState() => new()
    {
        ["t"] = new JsonArray(_t.Select(x => (JsonNode)x).ToArray()),
        ["product"] = StateJson.Numbers(_product),
    };

    /// <inheritdoc />
    public void LoadState(JsonObject? state)
    {
        var n = _t.Length;
        var ts = (StateJson.Get(state, "t", TypeName) as JsonArray)?.Select(x => x!.GetValue<long>()).ToArray()
                 ?? throw new FormatException("MultiplicativeLR state: 't' must be an array.");
        if (ts.Length != n) throw new FormatException($"MultiplicativeLR state has {ts.Length} groups, this schedule {n}.");
        _product = StateJson.ReadNumbers(state!["product"], n, "MultiplicativeLR product");
        _t = ts;
    }

    private void EnsureBound(int group)
    {
        if (group >= _t.Length)
            throw new InvalidOperationException("MultiplicativeLR is not bound to parameter groups; attach it to a Scheduler (or call Bind) first.");
    }
}
