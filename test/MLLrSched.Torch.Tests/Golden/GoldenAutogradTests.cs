using System.Text.Json;

namespace MLLrSched.Torch.Tests.Golden;

/// <summary>Gradients of composite functions against PyTorch's autograd (tools/golden/data/binding/autograd.json).</summary>
[TestClass]
public class GoldenAutogradTests
{
    private static JsonElement Case(string name) =>
        GoldenData.Load("autograd.json").GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static Tensor[] Inputs(JsonElement c, int leaves)
    {
        var t = c.GetProperty("inputs").EnumerateArray().Select(GoldenData.Decode).ToArray();
        for (var i = 0; i < leaves; i++) t[i].RequiresGrad = true;
        return t;
    }

    private static void CheckGrads(JsonElement c, Tensor loss, params Tensor[] leaves)
    {
        GoldenData.AssertClose(c.GetProperty("loss"), loss, "loss", 1e-5, 1e-6);
        var grads = c.GetProperty("grads").EnumerateArray().ToArray();
        for (var i = 0; i < leaves.Length; i++)
        {
            using var g = leaves[i].Grad;
            Assert.IsNotNull(g, $"grad {i} is None");
            GoldenData.AssertClose(grads[i], g, $"grad {i}", 1e-5, 1e-6);
        }
    }

    [TestMethod]
    public void MlpCrossEntropyGradients()
    {
        using var scope = TensorScope.Open();
        var c = Case("mlp_cross_entropy");
        var t = Inputs(c, 5);
        var loss = F.CrossEntropy(F.Linear(F.Linear(t[0], t[1], t[2]).Tanh(), t[3], t[4]), t[5], labelSmoothing: 0.05);
        loss.Backward();
        CheckGrads(c, loss, t[0], t[1], t[2], t[3], t[4]);
    }

    [TestMethod]
    public void ConvPoolLinearMseGradients()
    {
        using var scope = TensorScope.Open();
        var c = Case("conv_pool_linear_mse");
        var t = Inputs(c, 4);
        var h = F.MaxPool2d(F.Conv2d(t[0], t[1], t[2]).Relu(), (2, 2)).Flatten(1);
        var loss = F.MseLoss(F.Linear(h, t[3]), t[4]);
        loss.Backward();
        CheckGrads(c, loss, t[0], t[1], t[2], t[3]);
    }

    [TestMethod]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        using var scope = TensorScope.Open();
        var c = Case("layernorm_gelu_twice");
        var t = Inputs(c, 3);
        Tensor? loss = null;
        for (var i = 0; i < 2; i++)
        {
            loss = F.LayerNorm(t[0], [4], t[1], t[2]).Gelu().Pow(2).Sum();
            loss.Backward();
        }
        CheckGrads(c, loss!, t[0], t[1], t[2]);
    }

    [TestMethod]
    public void BatchNormBceGradients()
    {
        using var scope = TensorScope.Open();
        var c = Case("batchnorm_bce");
        var t = Inputs(c, 3);
        var loss = F.BinaryCrossEntropyWithLogits(F.BatchNorm(t[0], null, null, t[1], t[2], training: true), t[3]);
        loss.Backward();
        CheckGrads(c, loss, t[0], t[1], t[2]);
    }

    [TestMethod]
    public void EmbeddingChainGradients()
    {
        using var scope = TensorScope.Open();
        var c = Case("embedding_chain");
        var t = Inputs(c, 1);
        var e = F.Embedding(t[1], t[0]);
        var loss = e.AddCDiv(e, e.Abs() + 1, 0.5).Clamp(-1, 1).Lerp(e * 2, 0.3).Norm();
        loss.Backward();
        CheckGrads(c, loss, t[0]);
    }

    [TestMethod]
    public void SparseEmbeddingGradient()
    {
        using var scope = TensorScope.Open();
        var c = Case("embedding_sparse_grad");
        var t = Inputs(c, 1);
        F.Embedding(t[1], t[0], sparse: true).Pow(2).Sum().Backward();
        var g = t[0].Grad!;
        Assert.IsTrue(g.IsSparse, "sparse=true must give a sparse gradient");
        var cg = g.Coalesce();
        GoldenData.AssertClose(c.GetProperty("sparse_indices"), cg.SparseIndices(), "indices");
        GoldenData.AssertClose(c.GetProperty("sparse_values"), cg.SparseValues(), "values");
        GoldenData.AssertClose(c.GetProperty("dense"), g.ToDense(), "dense");
    }

    [TestMethod]
    public void NoGradScopeStopsRecordingAndRestores()
    {
        using var scope = TensorScope.Open();
        var w = Tensor.Ones([3]).RequiresGrad_();
        Assert.IsTrue(Torch.IsGradEnabled);
        using (Torch.NoGrad())
        {
            Assert.IsFalse(Torch.IsGradEnabled);
            var y = w * 2;
            Assert.IsFalse(y.RequiresGrad);
            using (Torch.EnableGrad()) Assert.IsTrue((w * 2).RequiresGrad);
            Assert.IsFalse(Torch.IsGradEnabled);
        }
        Assert.IsTrue(Torch.IsGradEnabled);
        // Python wraps the scalar as a tensor (MulBackward0); libtorch's Tensor*Scalar overload is MulBackward1.
        StringAssert.StartsWith((w * 2).GradFnName, "MulBackward");
        Assert.AreEqual("", w.GradFnName, "leaves have no grad_fn");
    }

    [TestMethod]
    public void GradCanBeSetAndClearedToNone()
    {
        using var scope = TensorScope.Open();
        var w = Tensor.Ones([2]).RequiresGrad_();
        Assert.IsNull(w.Grad);
        (w * 3).Sum().Backward();
        CollectionAssert.AreEqual(new float[] { 3, 3 }, w.Grad!.ToArray<float>());
        w.Grad = Tensor.FromArray(new float[] { 5, 6 });
        (w * 1).Sum().Backward();
        CollectionAssert.AreEqual(new float[] { 6, 7 }, w.Grad!.ToArray<float>(), "backward accumulates into a grad set by the user");
        w.Grad = null;
        Assert.IsNull(w.Grad);
    }
}
