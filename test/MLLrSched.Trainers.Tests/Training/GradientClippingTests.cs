using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Torch;
using MLLrSched.Trainers.Tests.Support;
using MLLrSched.Training;

namespace MLLrSched.Trainers.Tests.Training;

/// <summary>Clipping on the native engine beyond the golden cases (those run for every engine in the policy suite,
/// test/Shared/PolicySuite/ClippingTests.cs).</summary>
[TestClass]
public class GradientClippingTests
{
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
