using System.Text.Json;

namespace MLLrSched.Torch.Tests.Golden;

/// <summary>Seeded randomness equals PyTorch's, bit for bit (tools/golden/data/binding/random.json).</summary>
[TestClass]
public class GoldenRandomTests
{
    public static IEnumerable<object[]> Cases => GoldenData.Cases("random.json");

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void SeededDrawsMatchPyTorch(string id, JsonElement c)
    {
        using var scope = TensorScope.Open();
        var seed = c.GetProperty("seed").GetInt64();
        Torch.ManualSeed(seed);
        var actual = c.GetProperty("name").GetString() switch
        {
            "rand" => Tensor.Rand([3, 4]),
            "randn" => Tensor.Randn([5, 3]),
            "randn_float64" => Tensor.Randn([7], dtype: Backend.DType.Float64),
            "randperm" => Tensor.RandPerm(20),
            "randint" => Tensor.RandInt(0, 10, [12]),
            "dropout" => F.Dropout(Tensor.Ones([40]), c.GetProperty("p").GetDouble()),
            "generator_randn" => Tensor.Randn([6], new Generator(seed)),
            "normal_" => Tensor.Empty([8]).Normal_(c.GetProperty("mean").GetDouble(), c.GetProperty("std").GetDouble()),
            "uniform_" => Tensor.Empty([8]).Uniform_(c.GetProperty("low").GetDouble(), c.GetProperty("high").GetDouble()),
            var n => throw new AssertFailedException($"No replay for '{n}'"),
        };
        GoldenData.AssertExact(c.GetProperty("output"), actual, id);
    }
}
