using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Torch;

namespace MLLrSched.Trainers.Tests.Optimizers;

/// <summary>
/// The per-parameter loop of <see cref="Optimizer"/> (<c>ForEachDenseGradient</c>/<c>ForEachGradient</c>): which
/// parameters it visits, that each gets its own dispose scope, and that sparse gradients are refused before any state
/// is created, for a probe optimizer and for every dense-only built-in one.
/// </summary>
[TestClass]
public class ForEachGradientTests
{
    /// <summary>Records each visit: the parameter, the live tensor count on entry, whether its state was empty, the gradient's layout.</summary>
    private sealed class Probe : Optimizer
    {
        private static readonly OptimizerSchema Arguments = new("Probe",
            HyperParameter.Number("lr", 0.5, ValidRange.Positive, description: "learning rate"));

        private readonly bool _dense;

        public Probe(IEnumerable<ITensor> parameters, bool dense) : base(new[] { new ParamGroup(parameters) }, Arguments.MakeDefaults(), Arguments) =>
            _dense = dense;

        public List<(ITensor Param, long LiveOnEntry, bool StateWasEmpty, bool Sparse)> Visits { get; } = new();

        protected override void StepCore()
        {
            foreach (var group in ParamGroups)
            {
                var lr = group.Lr;
                void Body(ITensor p, ITensor grad, ParamState state)
                {
                    Visits.Add((p, Tensor.LiveCount, state.IsEmpty, grad.IsSparse));
                    state.Set("visits", (state.Contains("visits") ? state.Long("visits") : 0) + 1);
                    if (grad.IsSparse) return;
                    var twice = grad.Mul(2);   // a temporary: the parameter's scope must free it
                    p.Add_(twice, -lr);
                }
                if (_dense) ForEachDenseGradient(group, Body, "try the sparse path");
                else ForEachGradient(group, Body);
            }
        }
    }

    private static Tensor SparseGrad(long rows, long cols)
    {
        using var idx = Tensor.FromArray(new long[] { 1, 3 }, 1, 2);
        using var vals = Tensor.Ones(new long[] { 2, cols });
        return Tensor.SparseCoo(idx, vals, new[] { rows, cols });
    }

    [TestMethod]
    public void VisitsParametersWithAGradientInOrderEachInItsOwnScope()
    {
        using var a = Tensor.Ones(new long[] { 3 }).RequiresGrad_();
        using var b = Tensor.Ones(new long[] { 3 }).RequiresGrad_();
        using var c = Tensor.Ones(new long[] { 2, 2 }).RequiresGrad_();
        using var ga = Tensor.Ones(new long[] { 3 });
        using var gc = Tensor.Ones(new long[] { 2, 2 });
        a.Grad = ga;
        c.Grad = gc;
        using var opt = new Probe(new[] { a, b, c }, dense: true);

        var live = Tensor.LiveCount;
        opt.Step();
        Assert.AreEqual(live, Tensor.LiveCount, "the step frees the gradient handles and every temporary");
        Assert.HasCount(2, opt.Visits);
        Assert.AreSame(a, opt.Visits[0].Param);
        Assert.AreSame(c, opt.Visits[1].Param);
        Assert.AreEqual(opt.Visits[0].LiveOnEntry, opt.Visits[1].LiveOnEntry, "a's temporaries are freed before c is visited");
        Assert.IsTrue(opt.Visits.All(v => v.StateWasEmpty));
        Assert.IsNull(opt.GetState(b), "a parameter without a gradient gets no state");
        CollectionAssert.AreEqual(new float[] { 0, 0, 0 }, a.ToArray<float>());   // 1 − 0.5·2·1
        CollectionAssert.AreEqual(new float[] { 1, 1, 1 }, b.ToArray<float>());

        opt.Step();
        Assert.HasCount(4, opt.Visits);
        Assert.IsFalse(opt.Visits[2].StateWasEmpty, "the state persists between steps");
        Assert.AreEqual(2L, opt.GetState(c)!.Long("visits"));
    }

    [TestMethod]
    public void DenseLoopRefusesASparseGradientBeforeCreatingState()
    {
        using var w = Tensor.Zeros(new long[] { 5, 2 }).RequiresGrad_();
        using var g = SparseGrad(5, 2);
        w.Grad = g;
        using var opt = new Probe(new[] { w }, dense: true);

        var live = Tensor.LiveCount;
        var e = Assert.ThrowsExactly<InvalidOperationException>(opt.Step);
        Assert.AreEqual("Probe does not support sparse gradients, try the sparse path.", e.Message);
        Assert.AreEqual(live, Tensor.LiveCount, "the scope is closed on the error path too");
        Assert.IsEmpty(opt.Visits);
        Assert.IsNull(opt.GetState(w));
    }

    [TestMethod]
    public void PlainLoopPassesSparseGradientsOn()
    {
        using var w = Tensor.Zeros(new long[] { 5, 2 }).RequiresGrad_();
        using var g = SparseGrad(5, 2);
        w.Grad = g;
        using var opt = new Probe(new[] { w }, dense: false);
        opt.Step();
        Assert.HasCount(1, opt.Visits);
        Assert.IsTrue(opt.Visits[0].Sparse);
    }

    [TestMethod]
    public void EveryDenseOnlyOptimizerRefusesSparseGradientsWithItsNameAndLeavesNoState()
    {
        var make = new Func<ITensor[], Optimizer>[]
        {
            ps => new Adadelta(ps), ps => new Adafactor(ps), ps => new Adam(ps), ps => new AdamW(ps), ps => new Adamax(ps),
            ps => new Asgd(ps), ps => new Lion(ps), ps => new NAdam(ps), ps => new RAdam(ps), ps => new RmsProp(ps),
            ps => new Rprop(ps),
        };
        foreach (var create in make)
        {
            using var w = Tensor.Zeros(new long[] { 5, 2 }).RequiresGrad_();
            using var g = SparseGrad(5, 2);
            w.Grad = g;
            using var opt = create(new ITensor[] { w });
            opt.UseFusedKernels = false;
            var e = Assert.ThrowsExactly<InvalidOperationException>(opt.Step, opt.Name);
            StringAssert.StartsWith(e.Message, $"{opt.Name} does not support sparse gradients", opt.Name);
            Assert.IsNull(opt.GetState(w), opt.Name);
            CollectionAssert.AreEqual(new float[10], w.ToArray<float>(), opt.Name);
            Assert.AreEqual(0L, opt.StepCount, opt.Name);
        }
    }
}
