using MLLrSched.Backend;
using MLLrSched.Optimizers;

namespace MLLrSched.Trainers.Tests.Schedules;

/// <summary>An optimizer with hyperparameter-only groups (no parameters): all a schedule needs.</summary>
internal sealed class FakeOptimizer : IOptimizer
{
    public FakeOptimizer(params IReadOnlyDictionary<string, double>[] groups) =>
        ParamGroups = groups.Select(g => new ParamGroup(Array.Empty<ITensor>(), g)).ToArray();

    public static FakeOptimizer Sgd(params double[] lrs) =>
        new(lrs.Select(lr => (IReadOnlyDictionary<string, double>)new Dictionary<string, double> { ["lr"] = lr, ["momentum"] = 0.9 }).ToArray());

    public IReadOnlyList<ParamGroup> ParamGroups { get; }

    public long StepCount { get; private set; }

    public void Step() => StepCount++;

    public double Step(Func<double> closure)
    {
        var loss = closure();
        Step();
        return loss;
    }

    public void ZeroGrad(bool setToNone = true) { }
}
