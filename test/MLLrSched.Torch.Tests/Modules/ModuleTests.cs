using MLLrSched.Backend;
using MLLrSched.Torch.Modules;

namespace MLLrSched.Torch.Tests.Modules;

[TestClass]
public class ModuleTests
{
    private static Sequential Mlp() => new(new Linear(4, 8), new BatchNorm1d(8), new ReLU(), new Dropout(0.5), new Linear(8, 2));

    [TestMethod]
    public void NamedParametersAndBuffersFollowPyTorchNaming()
    {
        using var m = Mlp();
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias" },
            m.NamedParametersTyped().Select(p => p.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "1.running_mean", "1.running_var", "1.num_batches_tracked" },
            m.NamedBuffersTyped().Select(p => p.Name).ToArray());
        var sd = m.StateDict();
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias" }, sd.Keys.ToArray());
        sd.DisposeAll();
        Assert.AreEqual(4 * 8 + 8 + 8 + 8 + 8 * 2 + 2, m.ParameterCount());
        Assert.IsTrue(m.Parameters().All(p => p.RequiresGrad));
    }

    [TestMethod]
    public void TrainEvalPropagatesAndChangesDropoutAndBatchNorm()
    {
        using var scope = TensorScope.Open();
        using var m = Mlp();
        Torch.ManualSeed(0);
        var x = Tensor.Randn([16, 4]);
        Assert.IsTrue(m.NamedModules().All(t => t.Module.IsTraining));
        m.Eval();
        Assert.IsTrue(m.NamedModules().All(t => !t.Module.IsTraining));
        var e1 = m.Forward(x);
        var e2 = m.Forward(x);
        Assert.IsTrue(e1.Equal(e2), "eval mode is deterministic (no dropout, running stats)");
        m.Train();
        var t1 = m.Forward(x);
        var t2 = m.Forward(x);
        Assert.IsFalse(t1.Equal(t2), "training mode applies dropout");
    }

    [TestMethod]
    public void LoadStateDictCopiesValuesAndRejectsMismatches()
    {
        using var a = Mlp();
        using var b = Mlp();
        var sd = a.StateDict();
        b.LoadStateDict(sd);
        var sb = b.StateDict();
        foreach (var k in sd.Keys) Assert.IsTrue(sd[k].Equal(sb[k]), k);
        sb.DisposeAll();

        var missing = sd.Where(kv => kv.Key != "0.bias").ToDictionary();
        var e = Assert.ThrowsExactly<ArgumentException>(() => b.LoadStateDict(missing));
        StringAssert.Contains(e.Message, "missing keys: 0.bias");
        b.LoadStateDict(missing, strict: false);

        using var extra = Tensor.Zeros([1]);
        var more = new Dictionary<string, Tensor>(sd) { ["9.weight"] = extra };
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => b.LoadStateDict(more)).Message, "unexpected keys: 9.weight");

        using var wrongShape = Tensor.Zeros([8, 5]);
        var bad = new Dictionary<string, Tensor>(sd) { ["0.weight"] = wrongShape };
        var s = Assert.ThrowsExactly<ArgumentException>(() => b.LoadStateDict(bad));
        StringAssert.Contains(s.Message, "size mismatch for '0.weight': the file has shape [8, 5], the module has [8, 4]");
        sd.DisposeAll();
    }

    [TestMethod]
    public void ToDtypeKeepsParameterIdentity()
    {
        using var m = new Linear(3, 2);
        var w = m.Weight;
        m.To(DType.Float64);
        Assert.AreSame(w, m.Weight);
        Assert.AreEqual(DType.Float64, m.Weight.DType);
        Assert.IsTrue(m.Weight.RequiresGrad && m.Weight.IsLeaf);
        m.To(Device.Cpu);
        Assert.AreEqual(Device.Cpu, m.Weight.Device);
    }

    [TestMethod]
    public void SequentialDisposesIntermediatesButNotInputOrOutput()
    {
        using var scope = TensorScope.Open();
        using var m = new Sequential(new Linear(3, 3), new ReLU(), new Identity());
        var x = Tensor.Ones([2, 3]);
        var y = m.Forward(x);
        Assert.IsFalse(x.IsDisposed);
        Assert.IsFalse(y.IsDisposed);
        Assert.AreEqual(2, y.Shape[0]);
        using var empty = new Sequential();
        var z = empty.Forward(x);
        Assert.IsTrue(z.Equal(x));
    }

    [TestMethod]
    public void DropPathDropsWholeSamplesAndScales()
    {
        using var scope = TensorScope.Open();
        using var dp = new DropPath(0.5);
        Torch.ManualSeed(3);
        var x = Tensor.Ones([64, 5]);
        var y = dp.Forward(x).ToArray<float>();
        for (var i = 0; i < 64; i++)
        {
            var row = y.AsSpan(i * 5, 5).ToArray();
            Assert.IsTrue(row.All(v => v == 0f) || row.All(v => v == 2f), $"row {i} is all-dropped or all-kept×2");
        }
        Assert.IsTrue(y.Any(v => v == 0f) && y.Any(v => v == 2f));
        dp.Eval();
        Assert.IsTrue(dp.Forward(x).Equal(x));
    }

    [TestMethod]
    public void ModulesBuiltInsideAScopeSurviveIt()
    {
        Linear m;
        using (TensorScope.Open()) m = new Linear(2, 2);
        Assert.IsFalse(m.Weight.IsDisposed, "parameters are detached from scopes when registered");
        m.Dispose();
        Assert.IsTrue(m.Weight.IsDisposed);
    }

    [TestMethod]
    public void ToStringShowsStructure()
    {
        using var m = new Sequential(new Linear(4, 2), new ReLU());
        var s = m.ToString();
        StringAssert.Contains(s, "(0): Linear(in_features=4, out_features=2, bias=True)");
        StringAssert.Contains(s, "(1): ReLU()");
    }
}
