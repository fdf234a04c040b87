using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Torch;

namespace MLLrSched.Trainers.Tests.Optimizers;

/// <summary>
/// A user-written optimizer (the example in docs/optimizers.md, "Writing your own"): signSGD with momentum
/// (Bernstein et al. 2018), written only against the public API.
/// </summary>
public sealed class SignSgd : Optimizer
{
    public static readonly OptimizerSchema Arguments = new("SignSGD",
        HyperParameter.Number("lr", 0.01, ValidRange.Positive, description: "learning rate"),
        HyperParameter.Number("momentum", 0.9, ValidRange.UnitHalfOpen, description: "momentum of the gradient average"),
        HyperParameter.Number("weight_decay", 0.0, ValidRange.NonNegative, description: "decoupled weight decay"));

    public SignSgd(IEnumerable<ITensor> parameters, double lr = 0.01, double momentum = 0.9, double weightDecay = 0)
        : this(new[] { new ParamGroup(parameters) },
            Arguments.MakeDefaults(new Dictionary<string, object?> { ["lr"] = lr, ["momentum"] = momentum, ["weight_decay"] = weightDecay })) { }

    public SignSgd(IEnumerable<ParamGroup> groups, ParamGroup defaults) : base(groups, defaults, Arguments) { }

    protected override void StepCore()
    {
        foreach (var group in ParamGroups)
        {
            double lr = group.Lr, momentum = group["momentum"], wd = group["weight_decay"];
            foreach (var p in group.Parameters)
            {
                using var scope = Backend.NewScope();
                var grad = p.Grad;
                if (grad == null) continue;
                var state = StateOf(p);
                if (state.IsEmpty) state.Set("momentum_buffer", p.ZerosLike());
                var buf = state.Tensor("momentum_buffer");
                buf.Mul_(momentum).Add_(grad, 1 - momentum);
                if (wd != 0) p.Mul_(1 - lr * wd);
                p.Sub_(buf.Sign(), lr);
            }
        }
    }
}

/// <summary>An optimizer implementing only the interface: plain gradient descent with a fixed rate.</summary>
public sealed class MinimalGd : IOptimizer
{
    private readonly ParamGroup _group;

    public MinimalGd(IEnumerable<ITensor> parameters, double lr) =>
        _group = new ParamGroup(parameters, new Dictionary<string, double> { ["lr"] = lr });

    public IReadOnlyList<ParamGroup> ParamGroups => new[] { _group };
    public long StepCount { get; private set; }

    public void Step()
    {
        using var noGrad = _group.Parameters[0].Backend.NoGrad();
        foreach (var p in _group.Parameters)
        {
            using var g = p.Grad;
            if (g != null) p.Sub_(g, _group.Lr);
        }
        StepCount++;
    }

    public double Step(Func<double> closure)
    {
        var loss = closure();
        Step();
        return loss;
    }

    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in _group.Parameters) p.Grad = null;
    }
}

[TestClass]
public class CustomOptimizerTests
{
    static CustomOptimizerTests()
    {
        if (!OptimizerFactory.Registry.Contains("SignSGD"))
            OptimizerFactory.Register(SignSgd.Arguments, (groups, defaults) => new SignSgd(groups, defaults));
    }

    /// <summary>Generic code that only knows IOptimizer: a few steps of least squares, returns the losses.</summary>
    private static double[] Train(IOptimizer optimizer, Tensor w, int steps)
    {
        using var x = Tensor.FromArray(new float[] { 1, 2, 3, 4, -1, 0.5f }, 3, 2);
        using var y = Tensor.FromArray(new float[] { 1, -1, 2 }, 3, 1);
        var losses = new double[steps];
        for (var i = 0; i < steps; i++)
            losses[i] = optimizer.Step(() =>
            {
                optimizer.ZeroGrad();
                using var scope = TensorScope.Open();
                var d = x.MatMul(w).Sub(y);
                var loss = d.Mul(d).Mean();
                loss.Backward();
                return loss.ToDouble();
            });
        return losses;
    }

    private static Tensor W() => Tensor.FromArray(new float[] { 0.5f, -0.5f }, 2, 1).RequiresGrad_();

    [TestMethod]
    public void DerivedOptimizerTrainsLikeABuiltIn()
    {
        using var w = W();
        using var opt = new SignSgd(new[] { w }, lr: 0.05);
        var losses = Train(opt, w, 40);
        Assert.IsLessThan(losses[0] * 0.5, losses[^1], "signSGD reduces the loss");
        Assert.AreEqual(40, opt.StepCount);
        Assert.IsNotNull(opt.GetState(w));
        StringAssert.Contains(opt.ToString(), "momentum: 0.9");
    }

    [TestMethod]
    public void DerivedOptimizerGetsValidationJsonAndStateDicts()
    {
        using var w = W();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SignSgd(new[] { w }, momentum: 1)).Message,
            "SignSGD: momentum must be in [0, 1), got 1");

        var named = new List<NamedTensor> { new("w", w) };
        using var fromJson = (SignSgd)OptimizerFactory.Create("""{"type": "SignSGD", "lr": 0.02, "momentum": 0.5}""", named);
        Assert.AreEqual(0.02, fromJson.ParamGroups[0].Lr);
        Assert.AreEqual(0.5, fromJson.ParamGroups[0]["momentum"]);
        StringAssert.Contains(Assert.ThrowsExactly<MLLrSched.Specs.SpecException>(
            () => OptimizerFactory.Create("""{"type": "SignSGD", "momentum": 2}""", named)).Message, "Invalid 'momentum'");
        CollectionAssert.Contains(OptimizerFactory.Registry.Names.ToArray(), "SignSGD");

        Train(fromJson, w, 5);
        using var sd = fromJson.StateDict();
        CollectionAssert.AreEqual(new[] { "momentum_buffer" }, sd.State[0].Keys.ToArray());
        using var w2 = W();
        using var resumed = new SignSgd(new[] { w2 });
        resumed.LoadStateDict(sd);
        Assert.AreEqual(0.5, resumed.ParamGroups[0]["momentum"]);
        Assert.AreEqual(5, resumed.StepCount);
        CollectionAssert.AreEqual(fromJson.GetState(w)!.Tensor("momentum_buffer").ToFloatArray(),
            resumed.GetState(w2)!.Tensor("momentum_buffer").ToFloatArray());
    }

    [TestMethod]
    public void InterfaceOnlyOptimizerWorksWithGenericCode()
    {
        using var w = W();
        var opt = new MinimalGd(new[] { w }, lr: 0.05);
        var losses = Train(opt, w, 20);
        Assert.IsLessThan(losses[0], losses[^1]);
        // State dicts are opt-in for interface-only optimizers.
        Assert.ThrowsExactly<NotSupportedException>(() => ((IOptimizer)opt).StateDict());
    }
}
