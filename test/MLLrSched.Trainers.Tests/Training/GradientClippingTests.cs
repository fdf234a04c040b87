using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Torch;
using MLLrSched.Trainers.Tests.Support;
using MLLrSched.Training;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>Clipping against torch.nn.utils.clip_grad_norm_ / clip_grad_value_ and timm's AGC (tools/golden/training.py).</summary>
[TestClass]
public class GradientClippingTests
{
    public static IEnumerable<object[]> Cases =>
        Golden.Load("training/clipping.json").GetProperty("cases").EnumerateArray()
            .Select((c, i) => new object[] { $"{c.GetProperty("kind").GetString()}#{i}", c });

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void MatchesPyTorch(string id, JsonElement c)
    {
        using var scope = TensorScope.Open();
        var ps = c.GetProperty("params").EnumerateArray().Select(p => Golden.Float(p).RequiresGrad_()).ToArray();
        var grads = c.GetProperty("grads").EnumerateArray().ToArray();
        for (var i = 0; i < ps.Length; i++) ps[i].Grad = Golden.Float(grads[i]);
        switch (c.GetProperty("kind").GetString())
        {
            case "norm":
                var total = GradientClipping.ClipGradNorm(ps, c.GetProperty("max_norm").GetDouble(), Golden.Num(c.GetProperty("norm_type")));
                var expectedTotal = c.GetProperty("total_norm").GetDouble();
                Assert.AreEqual(expectedTotal, total, 1e-6 * expectedTotal + 1e-9, $"{id}: total norm");
                break;
            case "value":
                GradientClipping.ClipGradValue(ps, c.GetProperty("clip_value").GetDouble());
                break;
            case "agc":
                GradientClipping.AdaptiveClipGrad(ps, c.GetProperty("clip_factor").GetDouble(), c.GetProperty("eps").GetDouble());
                break;
        }
        var clipped = c.GetProperty("clipped").EnumerateArray().ToArray();
        for (var i = 0; i < ps.Length; i++) Golden.AssertClose(clipped[i], ps[i].Grad!, $"{id} grad {i}", 1e-6, 1e-7);
    }

    [TestMethod]
    public void NonFiniteNormRaisesWhenAskedAndIsReportedOtherwise()
    {
        using var scope = TensorScope.Open();
        var p = Tensor.Ones([3]).RequiresGrad_();
        p.Grad = Tensor.FromArray(new[] { 1f, float.NaN, 2f });
        var e = Assert.ThrowsExactly<NonFiniteGradientException>(() => GradientClipping.ClipGradNorm([p], 1.0, errorIfNonfinite: true));
        StringAssert.Contains(e.Message, "non-finite");
        Assert.IsTrue(double.IsNaN(GradientClipping.ClipGradNorm([p], 1.0)));
    }

    [TestMethod]
    public void ParametersWithoutGradientsAreSkipped()
    {
        using var scope = TensorScope.Open();
        var a = Tensor.Ones([2]).RequiresGrad_();
        var b = Tensor.Ones([2]).RequiresGrad_();
        b.Grad = Tensor.FromArray(new[] { 3f, 4f });
        Assert.AreEqual(5.0, GradientClipping.ClipGradNorm(new ITensor[] { a, b }, 10), 1e-6);
        Assert.IsNull(a.Grad);
        Assert.AreEqual(0.0, GradientClipping.ClipGradNorm(new ITensor[] { a }, 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GradientClipping.ClipGradNorm(new ITensor[] { b }, -1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GradientClipping.ClipGradNorm(new ITensor[] { b }, 1, normType: 0));
    }
}
