namespace MLLrSched.MLExtensions.Tests;

/// <summary>Same options and seed give a bit-identical model, whatever was fitted before in the process, and in another
/// process.</summary>
[TestClass]
public sealed class ReproducibilityTests
{
    [TestMethod]
    public void SameSeed_BitIdenticalWeights_AcrossFitsAndProcesses_OtherSeedDiffers()
    {
        var first = ReproPipeline.FitAndHash(seed: 7);
        var other = ReproPipeline.FitAndHash(seed: 8);
        var again = ReproPipeline.FitAndHash(seed: 7);
        Assert.AreNotEqual(first, other, "another seed gives another model");
        Assert.AreEqual(first, again, "the same seed after fitting with another seed in this process");
        var (code, output) = Child.Run("fit", "7");
        Assert.AreEqual(0, code, output);
        StringAssert.Contains(output, "hash " + first, "a fresh process gives the same weights");
    }
}
