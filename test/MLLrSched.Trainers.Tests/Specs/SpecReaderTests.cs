using System.Text.Json;
using MLLrSched.Specs;

namespace MLLrSched.Trainers.Tests.Specs;

[TestClass]
public class SpecReaderTests
{
    private static SpecReader Reader(string json) => new(JsonDocument.Parse(json).RootElement.Clone(), "optimizer 'AdamW'");

    [TestMethod]
    public void UnknownKeyIsNamedWithSuggestionAndValidKeys()
    {
        var r = Reader("""{"type":"AdamW","lr":0.1,"betaz":[0.9,0.99]}""");
        r.GetDouble("lr", 1e-3, min: 0);
        r.GetDoubleArray("betas", new[] { 0.9, 0.999 }, length: 2);
        var e = Assert.ThrowsExactly<SpecException>(r.EnsureNoUnknownKeys);
        StringAssert.Contains(e.Message, "'betaz' (did you mean 'betas'?)");
        StringAssert.Contains(e.Message, "Valid keys: betas, lr, type");
        Assert.AreEqual("betaz", e.Key);
    }

    [TestMethod]
    public void RangeViolationNamesKeyAndRange()
    {
        var r = Reader("""{"lr":-1}""");
        var e = Assert.ThrowsExactly<SpecException>(() => r.GetDouble("lr", 1e-3, min: 0));
        StringAssert.Contains(e.Message, "Invalid 'lr' in optimizer 'AdamW': must be ≥ 0, got -1.");
    }

    [TestMethod]
    public void PythonInfinitySpellingsAreAccepted()
    {
        var r = Reader("""{"max_norm":"inf","p":"-inf"}""");
        Assert.AreEqual(double.PositiveInfinity, r.GetDouble("max_norm", 1));
        Assert.AreEqual(double.NegativeInfinity, r.GetDouble("p", 1));
    }

    [TestMethod]
    public void PerGroupValuesAcceptScalarOrList()
    {
        var r = Reader("""{"max_lr":[0.1,0.2],"base_lr":0.01}""");
        CollectionAssert.AreEqual(new[] { 0.1, 0.2 }, r.GetPerGroupOrNull("max_lr", 2));
        CollectionAssert.AreEqual(new[] { 0.01, 0.01 }, r.GetPerGroupOrNull("base_lr", 2));
        Assert.ThrowsExactly<SpecException>(() => r.GetPerGroupOrNull("max_lr", 3));
    }

    [TestMethod]
    public void RegistryRejectsUnknownTypeListingValidOnes()
    {
        var reg = new SpecRegistry<int, string>("schedule");
        reg.Register("StepLR", (r, _) => "step:" + r.GetLong("step_size", 1, min: 1));
        reg.Register("ExponentialLR", (r, _) => "exp");
        Assert.AreEqual("step:3", reg.Create("""{"type":"StepLR","step_size":3}""", 0));
        var e = Assert.ThrowsExactly<SpecException>(() => reg.Create("""{"type":"StepLr"}""", 0));
        StringAssert.Contains(e.Message, "Unknown schedule type 'StepLr'. Did you mean 'StepLR'? Valid types: ExponentialLR, StepLR.");
        var e2 = Assert.ThrowsExactly<SpecException>(() => reg.Create("""{"type":"StepLR","gama":0.1}""", 0));
        StringAssert.Contains(e2.Message, "Unknown key 'gama'");
    }
}
