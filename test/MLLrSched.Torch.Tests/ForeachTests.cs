namespace MLLrSched.Torch.Tests;

/// <summary>Every foreach op equals the same op applied tensor by tensor.</summary>
[TestClass]
public class ForeachTests
{
    private static Tensor[] List(long seed)
    {
        using var g = new Generator(seed);
        return [Tensor.Rand([3, 4], g).Add_(0.1), Tensor.Rand([5], g).Add_(0.1), Tensor.Rand([2, 2, 2], g).Add_(0.1)];
    }

    [TestMethod]
    public void ForeachOpsEqualPerTensorOps()
    {
        using var scope = TensorScope.Open();
        var a = List(1);
        var b = List(2);
        var c = List(3);
        void Check(Action<Tensor[]> foreachOp, Func<Tensor, int, Tensor> single, string what)
        {
            var x = a.Select(t => t.Clone()).ToArray();
            foreachOp(x);
            for (var i = 0; i < x.Length; i++) Assert.IsTrue(single(a[i].Clone(), i).AllClose(x[i], 1e-6, 1e-7), $"{what} tensor {i}");
        }
        Check(x => Foreach.Add_(x, b, 0.5), (t, i) => t.Add_(b[i], 0.5), "add_ list");
        Check(x => Foreach.Add_(x, 2.0), (t, _) => t.Add_(2.0), "add_ scalar");
        Check(x => Foreach.Mul_(x, b), (t, i) => t.Mul_(b[i]), "mul_ list");
        Check(x => Foreach.Mul_(x, 0.3), (t, _) => t.Mul_(0.3), "mul_ scalar");
        Check(x => Foreach.Div_(x, b), (t, i) => t.Div_(b[i]), "div_ list");
        Check(x => Foreach.Div_(x, 4.0), (t, _) => t.Div_(4.0), "div_ scalar");
        Check(x => Foreach.AddCMul_(x, b, c, 0.7), (t, i) => t.AddCMul_(b[i], c[i], 0.7), "addcmul_");
        Check(x => Foreach.AddCDiv_(x, b, c, -0.2), (t, i) => t.AddCDiv_(b[i], c[i], -0.2), "addcdiv_");
        Check(x => Foreach.Maximum_(x, b), (t, i) => t.Maximum_(b[i]), "maximum_");
        Check(Foreach.Sqrt_, (t, _) => t.Sqrt_(), "sqrt_");
        Check(Foreach.Neg_, (t, _) => t.Neg_(), "neg_");
        Check(Foreach.Zero_, (t, _) => t.Zero_(), "zero_");
        var norms = Foreach.Norm(a, 2);
        var sums = Foreach.Add(a, b, 2);
        var sq = Foreach.Sqrt(a);
        for (var i = 0; i < a.Length; i++)
        {
            Assert.AreEqual(a[i].Norm(2).ToDouble(), norms[i].ToDouble(), 1e-6);
            Assert.IsTrue(a[i].Add(b[i], 2).AllClose(sums[i]));
            Assert.IsTrue(a[i].Sqrt().AllClose(sq[i]));
        }
        Assert.ThrowsExactly<ArgumentException>(() => Foreach.Add_(a, b.Take(2).ToArray()));
        var wrong = new[] { Tensor.Zeros([7]), Tensor.Zeros([5]), Tensor.Zeros([8]) };
        Assert.ThrowsExactly<TorchException>(() => Foreach.Add_(a, wrong));
    }
}
