using MLLrSched.Backend;
using MLLrSched.Torch;

namespace MLLrSched.Torch.Tests;

[TestClass]
public class SmokeTests
{
    [TestMethod]
    public void AddTwoTensors()
    {
        using var a = Tensor.FromArray(new float[] { 1, 2, 3 });
        using var b = Tensor.FromArray(new float[] { 10, 20, 30 });
        using var c = a.Add(b, 2);
        CollectionAssert.AreEqual(new float[] { 21, 42, 63 }, c.ToArray<float>());
        StringAssert.Matches(Torch.Version, new System.Text.RegularExpressions.Regex(@"^\d+\.\d+\.\d+$"));
    }
}
