using MLLrSched.Torch.Modules;

namespace MLLrSched.Torch.Tests;

/// <summary>One seed call makes CPU training bit-identical.</summary>
[TestClass]
public class DeterminismTests
{
    private static float[] TrainFewSteps(long seed)
    {
        Torch.ManualSeed(seed);
        using var m = new Sequential(new Linear(10, 16), new ReLU(), new Dropout(0.2), new Linear(16, 3));
        var x = Tensor.Randn([32, 10]).DetachFromScope();
        var y = Tensor.RandInt(0, 3, [32]).DetachFromScope();
        for (var step = 0; step < 20; step++)
        {
            using var scope = TensorScope.Open();
            m.ZeroGrad();
            F.CrossEntropy(m.Forward(x), y).Backward();
            using (Torch.NoGrad())
                foreach (var p in m.Parameters())
                    p.Sub_(p.Grad!, 0.1);
        }
        x.Dispose();
        y.Dispose();
        return m.Parameters().SelectMany(p => p.ToArray<float>()).ToArray();
    }

    [TestMethod]
    public void SameSeedGivesBitIdenticalWeights()
    {
        var a = TrainFewSteps(123);
        var b = TrainFewSteps(123);
        CollectionAssert.AreEqual(a, b);
        var c = TrainFewSteps(124);
        CollectionAssert.AreNotEqual(a, c);
    }

    [TestMethod]
    public void GeneratorStateRoundTrips()
    {
        using var scope = TensorScope.Open();
        Torch.ManualSeed(5);
        var state = Generator.GetDefaultState();
        var first = Tensor.Randn([4]).ToArray<float>();
        Generator.SetDefaultState(state);
        CollectionAssert.AreEqual(first, Tensor.Randn([4]).ToArray<float>());
        using var g = new Generator(9);
        var gs = g.GetState();
        var a = Tensor.Rand([3], g).ToArray<float>();
        g.SetState(gs);
        CollectionAssert.AreEqual(a, Tensor.Rand([3], g).ToArray<float>());
    }

    [TestMethod]
    public void ThreadCountIsSettable()
    {
        var before = Torch.NumThreads;
        Assert.IsGreaterThanOrEqualTo(1, before);
        try
        {
            Torch.NumThreads = 1;
            Assert.AreEqual(1, Torch.NumThreads);
        }
        finally { Torch.NumThreads = before; }
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Torch.NumThreads = 0);
    }
}
