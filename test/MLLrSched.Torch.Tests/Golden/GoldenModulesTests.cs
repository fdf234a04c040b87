using System.Text.Json;
using MLLrSched.Torch.Modules;

namespace MLLrSched.Torch.Tests.Golden;

/// <summary>
/// Modules against PyTorch: the same seed gives the same initial weights bit for bit (same init formulas and
/// random draws), state_dict keys match, and forward passes agree.
/// </summary>
[TestClass]
public class GoldenModulesTests
{
    private static JsonElement Case(string name) =>
        GoldenData.Load("modules.json").GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static void AssertState(JsonElement c, Module m, bool exact = true)
    {
        var expected = c.GetProperty("state").EnumerateArray().ToArray();
        var sd = m.StateDict();
        try
        {
            CollectionAssert.AreEqual(expected.Select(e => e.GetProperty("name").GetString()).ToArray(), sd.Keys.ToArray(), "state_dict keys and order");
            foreach (var e in expected)
            {
                var name = e.GetProperty("name").GetString()!;
                if (exact) GoldenData.AssertExact(e.GetProperty("tensor"), sd[name], name);
                else GoldenData.AssertClose(e.GetProperty("tensor"), sd[name], name, 1e-5, 1e-6);
            }
        }
        finally { sd.DisposeAll(); }
    }

    [TestMethod]
    public void LinearInitMatchesPyTorchBitForBit()
    {
        var c = Case("linear_init");
        Torch.ManualSeed(c.GetProperty("seed").GetInt64());
        using var m = new Linear(5, 3);
        AssertState(c, m);
    }

    [TestMethod]
    public void SequentialKeysAndInitMatchPyTorch()
    {
        var c = Case("sequential_init");
        Torch.ManualSeed(c.GetProperty("seed").GetInt64());
        using var m = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
        AssertState(c, m);  // keys "0.weight", "0.bias", "2.weight", "2.bias"
    }

    [TestMethod]
    public void Conv2dInitMatchesPyTorch()
    {
        var c = Case("conv2d_init");
        Torch.ManualSeed(c.GetProperty("seed").GetInt64());
        using var m = new Conv2d(2, 4, 3, padding: 1);
        AssertState(c, m);
    }

    [TestMethod]
    public void EmbeddingInitMatchesPyTorch()
    {
        var c = Case("embedding_init");
        Torch.ManualSeed(c.GetProperty("seed").GetInt64());
        using var m = new Embedding(10, 4, paddingIdx: 1);
        AssertState(c, m);
    }

    [TestMethod]
    [DataRow("batchnorm1d_momentum_0.1", 0.1)]
    [DataRow("batchnorm1d_momentum_None", null)]
    public void BatchNorm1dTrainingUpdatesRunningStatsLikePyTorch(string name, double? momentum)
    {
        using var scope = TensorScope.Open();
        var c = Case(name);
        using var bn = new BatchNorm1d(3, momentum: momentum);
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(GoldenData.Decode).ToArray();
        var outs = c.GetProperty("train_outputs").EnumerateArray().ToArray();
        for (var i = 0; i < inputs.Length; i++) GoldenData.AssertClose(outs[i], bn.Forward(inputs[i]), $"train output {i}", 1e-5, 1e-6);
        bn.Eval();
        GoldenData.AssertClose(c.GetProperty("eval_output"), bn.Forward(inputs[0]), "eval output", 1e-5, 1e-6);
        AssertState(c, bn, exact: false);
    }

    [TestMethod]
    public void BatchNorm2dMatchesPyTorch()
    {
        using var scope = TensorScope.Open();
        var c = Case("batchnorm2d");
        using var bn = new BatchNorm2d(2);
        var x = GoldenData.Decode(c.GetProperty("inputs")[0]);
        GoldenData.AssertClose(c.GetProperty("train_outputs")[0], bn.Forward(x), "output", 1e-5, 1e-6);
        AssertState(c, bn, exact: false);
    }

    [TestMethod]
    public void SmallCnnSameSeedSameWeightsSameOutput()
    {
        using var scope = TensorScope.Open();
        var c = Case("cnn_forward");
        Torch.ManualSeed(c.GetProperty("seed").GetInt64());
        using var cnn = new Sequential(new Conv2d(1, 4, 3, padding: 1), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 3));
        AssertState(c, cnn);
        var x = GoldenData.Decode(c.GetProperty("inputs")[0]);
        GoldenData.AssertClose(c.GetProperty("output"), cnn.Forward(x), "forward", 1e-5, 1e-6);
    }
}
