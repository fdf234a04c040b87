using MLLrSched.Backend;
using MLLrSched.Optimizers;
using MLLrSched.Specs;
using MLLrSched.Torch;

namespace MLLrSched.Trainers.Tests.Optimizers;

/// <summary>Invalid settings fail at construction, naming the setting and its valid range (as PyTorch's ValueErrors).</summary>
[TestClass]
public class ValidationTests
{
    private static Tensor P() => Tensor.Zeros(new long[] { 2, 2 }).RequiresGrad_();

    private static void Throws(Func<object> create, params string[] fragments)
    {
        var e = Assert.Throws<ArgumentException>(() => create());
        foreach (var f in fragments) StringAssert.Contains(e.Message, f);
    }

    [TestMethod]
    public void CSharpConstructorsRejectInvalidSettings()
    {
        using var p = P();
        var ps = new[] { p };
        Throws(() => new Sgd(ps, lr: -0.1), "SGD", "lr must be ≥ 0, got -0.1");
        Throws(() => new Sgd(ps, lr: 0.1, momentum: -1), "momentum must be ≥ 0");
        Throws(() => new Sgd(ps, lr: 0.1, nesterov: true), "nesterov", "momentum > 0 and dampening = 0");
        Throws(() => new Sgd(ps, lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true), "nesterov");
        Throws(() => new Adam(ps, betas: (1.0, 0.999)), "Adam", "betas[0] must be in [0, 1), got 1");
        Throws(() => new Adam(ps, betas: (0.9, -0.1)), "betas[1] must be in [0, 1), got -0.1");
        Throws(() => new AdamW(ps, eps: -1e-8), "AdamW", "eps must be ≥ 0");
        Throws(() => new AdamW(ps, weightDecay: -0.01), "weight_decay must be ≥ 0");
        Throws(() => new Adamax(ps, lr: double.NaN), "lr must be ≥ 0, got NaN");
        Throws(() => new NAdam(ps, momentumDecay: -1), "momentum_decay must be ≥ 0");
        Throws(() => new RAdam(ps, eps: -1), "eps must be ≥ 0");
        Throws(() => new Adagrad(ps, lrDecay: -1), "lr_decay must be ≥ 0");
        Throws(() => new Adagrad(ps, initialAccumulatorValue: -1), "initial_accumulator_value must be ≥ 0");
        Throws(() => new Adadelta(ps, rho: 1.5), "rho must be in [0, 1], got 1.5");
        Throws(() => new RmsProp(ps, alpha: -0.5), "alpha must be ≥ 0");
        Throws(() => new Asgd(ps, weightDecay: -1), "ASGD", "weight_decay must be ≥ 0");
        Throws(() => new Rprop(ps, etas: (1.5, 1.2)), "etas[0] must be in (0, 1), got 1.5");
        Throws(() => new Rprop(ps, etas: (0.5, 0.9)), "etas[1] must be > 1, got 0.9");
        Throws(() => new Rprop(ps, stepSizes: (1, 0.1)), "step_sizes", "min ≤ max");
        Throws(() => new SparseAdam(ps, lr: 0), "SparseAdam", "lr must be > 0, got 0");
        Throws(() => new SparseAdam(ps, eps: 0), "eps must be > 0");
        Throws(() => new Lbfgs(ps, maxIter: 0), "LBFGS", "max_iter must be ≥ 1, got 0");
        Throws(() => new Lbfgs(ps, historySize: 0), "history_size must be ≥ 1");
        Throws(() => new Lbfgs(ps, lineSearchFn: "backtracking"), "line_search_fn must be null or one of 'strong_wolfe'");
        Throws(() => new Lion(ps, lr: 0), "Lion", "lr must be > 0");
        Throws(() => new Lion(ps, betas: (0.9, 1.1)), "betas[1] must be in [0, 1], got 1.1");
        Throws(() => new Lamb(ps, maxGradNorm: 0), "Lamb", "max_grad_norm must be > 0");
        Throws(() => new Adafactor(ps, lr: 0.01), "Adafactor", "relative_step");
        Throws(() => new Adafactor(ps, relativeStep: false), "relative_step=false needs an lr");
        Throws(() => new Adafactor(ps, lr: 0.01, relativeStep: false, warmupInit: true), "warmup_init=true requires relative_step=true");
        Throws(() => new Adafactor(ps, clipThreshold: 0), "clip_threshold must be > 0");
        Throws(() => new Adafactor(ps, decayRate: 0.5), "decay_rate must be ≤ 0");
    }

    [TestMethod]
    public void ErrorsAreArgumentExceptionsWithTheSettingAsParamName()
    {
        using var p = P();
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Adam(new[] { p }, lr: -1));
        Assert.AreEqual("lr", e.ParamName);
    }

    [TestMethod]
    public void GroupOverridesAreValidatedAndNamed()
    {
        using var a = P();
        using var b = P();
        var groups = new[]
        {
            new ParamGroup(new[] { a }),
            new ParamGroup(new[] { b }, new Dictionary<string, double> { ["weight_decay"] = -1 }),
        };
        Throws(() => new AdamW(groups), "AdamW, parameter group 1: weight_decay must be ≥ 0, got -1");
    }

    [TestMethod]
    public void StructuralErrors()
    {
        using var a = P();
        using var b = P();
        Throws(() => new Adam(Array.Empty<ITensor>()), "empty parameter list");
        Throws(() => new Adam(new[] { new ParamGroup(new[] { a }), new ParamGroup(new[] { a, b }) }), "appears more than once");
        Throws(() => new Lbfgs(new[] { new ParamGroup(new[] { a }), new ParamGroup(new[] { b }) }, Lbfgs.Arguments.MakeDefaults()),
            "LBFGS doesn't support per-parameter options");
        Throws(() => new Sgd(new[] { a }, semantics: TorchSemantics.Torch1_13), "SGD: lr is required under PyTorch 1.13 semantics");
    }

    [TestMethod]
    public void RuntimeMisuseIsReported()
    {
        using var w = Tensor.Zeros(new long[] { 5, 2 }).RequiresGrad_();
        using var adam = new Adam(new[] { w });
        using var idx = Tensor.FromArray(new long[] { 1, 3 }, 1, 2);
        using var vals = Tensor.Ones(new long[] { 2, 2 });
        w.Grad = Tensor.SparseCoo(idx, vals, new long[] { 5, 2 });
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(adam.Step).Message,
            "Adam does not support sparse gradients, please consider SparseAdam instead");

        using var sparseAdam = new SparseAdam(new[] { w });
        w.Grad = Tensor.Ones(new long[] { 5, 2 });
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(sparseAdam.Step).Message, "dense gradients");

        using var lbfgs = new Lbfgs(new[] { w });
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(lbfgs.Step).Message, "Step(closure)");
    }

    [TestMethod]
    public void JsonErrorsNameKeyAndValidValues()
    {
        using var w = P();
        var named = new List<NamedTensor> { new("fc.weight", w) };
        SpecException E(string json) => Assert.ThrowsExactly<SpecException>(() => OptimizerFactory.Create(json, named));

        var e = E("""{"type":"AdamW","lr":-1}""");
        StringAssert.Contains(e.Message, "Invalid 'lr' in optimizer 'AdamW': must be ≥ 0, got -1.");
        Assert.AreEqual("lr", e.Key);
        StringAssert.Contains(E("""{"type":"AdamW","betas":[0.9,1.0]}""").Message, "betas[1] must be in [0, 1), got 1");
        StringAssert.Contains(E("""{"type":"AdamW","betas":[0.9]}""").Message, "expected 2 numbers");
        StringAssert.Contains(E("""{"type":"AdamW","eps":-1e-8}""").Message, "Invalid 'eps'");
        e = E("""{"type":"AdamW","betaz":[0.9,0.99]}""");
        StringAssert.Contains(e.Message, "'betaz' (did you mean 'betas'?)");
        StringAssert.Contains(e.Message, "amsgrad");
        StringAssert.Contains(E("""{"type":"Adamw"}""").Message, "Did you mean 'AdamW'?");
        // SGD's lr is required under PyTorch 1.13's semantics only (2.x defaults it to 1e-3); pin the version.
        StringAssert.Contains(E("""{"type":"SGD","torch_semantics":"1.13"}""").Message, "Missing 'lr' in optimizer 'SGD'");
        StringAssert.Contains(E("""{"type":"SGD","lr":0.1,"nesterov":true}""").Message, "nesterov momentum requires momentum > 0");
        StringAssert.Contains(E("""{"type":"AdamW","amsgrad":null}""").Message, "null is not allowed");
        StringAssert.Contains(E("""{"type":"LBFGS","line_search_fn":"wolfe"}""").Message, "'wolfe' is not one of: 'strong_wolfe'");
        StringAssert.Contains(E("""{"type":"AdamW","param_groups":[{"params":"biases"}]}""").Message,
            "'biases' is not one of \"no_decay\", \"decay\", \"all\"");
        StringAssert.Contains(E("""{"type":"AdamW","param_groups":[{"params":["head.*"]}]}""").Message,
            "match no parameter. Parameters: fc.weight");
        StringAssert.Contains(E("""{"type":"AdamW","param_groups":[{"params":"all","momentum":0.9}]}""").Message,
            "Unknown key 'momentum' in param_groups[0] of optimizer 'AdamW'");
        StringAssert.Contains(E("""{"type":"AdamW","param_groups":[{"params":"all","lr":-2}]}""").Message,
            "Invalid 'lr' in param_groups[0] of optimizer 'AdamW'");
        StringAssert.Contains(E("""{"type":"AdamW","param_groups":[{"lr":1}]}""").Message, "Missing 'params'");
        StringAssert.Contains(E("""{"type":"AdamW","layer_decay":1.5}""").Message, "Invalid 'layer_decay'");
        StringAssert.Contains(E("""{"type":"AdamW","capturable":false}""").Message, "Unknown key 'capturable'");
    }
}
