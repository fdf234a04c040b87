using MLLrSched.Schedules;

namespace MLLrSched.Trainers.Tests.Schedules;

[TestClass]
public class TorchGeneratorTests
{
    [TestMethod]
    public void DrawsEqualPyTorchsCpuGeneratorBitForBit()
    {
        var g = new TorchCpuGenerator();
        var n = 0;
        foreach (var c in Golden.File("rng.json").GetProperty("cases").EnumerateArray())
        {
            var seed = c.GetProperty("seed").GetUInt64();
            g.ManualSeed(seed);
            foreach (var expected in c.GetProperty("randn").EnumerateArray())
            {
                Assert.AreEqual(expected.GetDouble(), g.Randn(), 0.0, $"randn, seed {seed}");
                n++;
            }
            g.ManualSeed(seed);
            foreach (var expected in c.GetProperty("rand").EnumerateArray())
            {
                Assert.AreEqual(expected.GetDouble(), g.Rand(), 0.0, $"rand, seed {seed}");
                n++;
            }
        }
        Assert.IsTrue(n > 300);
    }

    [TestMethod]
    public void LongRunsPastTheFirstStateBlockStayStandardMt19937()
    {
        // The reference values of std::mt19937 seeded with 5489: the 10000th output is 4123659995.
        var g = new TorchCpuGenerator();
        g.ManualSeed(5489);
        uint last = 0;
        for (var i = 0; i < 10000; i++) last = g.Next32();
        Assert.AreEqual(4123659995u, last);
    }
}
