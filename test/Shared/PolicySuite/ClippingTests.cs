using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Training;

namespace MLLrSched.Tests.PolicySuite;

/// <summary>The clipping functions the trainer's clipping policies run, on the suite's engine, against
/// torch.nn.utils.clip_grad_norm_ (p = 1, 2, 3, inf), clip_grad_value_ and timm's adaptive_clip_grad
/// (tools/golden/training.py): the total norm within 1e-6 relative, every clipped gradient within 1e-6 relative + 1e-7.</summary>
[TestClass]
public class ClippingTests
{
    public static IEnumerable<object[]> Cases =>
        SuiteGolden.Load("training/clipping.json").GetProperty("cases").EnumerateArray()
            .Select((c, i) => new object[] { $"{c.GetProperty("kind").GetString()}#{i}" });

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void MatchesPyTorch(string id)
    {
        var c = SuiteGolden.Load("training/clipping.json").GetProperty("cases")[int.Parse(id[(id.IndexOf('#') + 1)..])];
        var b = SuiteEngine.Backend;
        using var scope = b.NewScope();
        var ps = c.GetProperty("params").EnumerateArray().Select(p =>
        {
            var t = SuiteGolden.Tensor(p);
            t.RequiresGrad = true;
            return t;
        }).ToArray();
        var grads = c.GetProperty("grads").EnumerateArray().ToArray();
        for (var i = 0; i < ps.Length; i++) ps[i].Grad = SuiteGolden.Tensor(grads[i]);
        switch (c.GetProperty("kind").GetString())
        {
            case "norm":
                var total = GradientClipping.ClipGradNorm(ps, c.GetProperty("max_norm").GetDouble(), SuiteGolden.Num(c.GetProperty("norm_type")));
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
        for (var i = 0; i < ps.Length; i++)
        {
            var e = SuiteGolden.Floats(clipped[i]);
            using var g = ps[i].Grad!;
            var a = g.ToFloatArray();
            for (var j = 0; j < e.Length; j++)
                if (!(Math.Abs(a[j] - e[j]) <= 1e-7 + 1e-6 * Math.Abs(e[j])))
                    Assert.Fail($"{id} grad {i}[{j}]: expected {e[j]:R}, got {a[j]:R}");
        }
    }
}
