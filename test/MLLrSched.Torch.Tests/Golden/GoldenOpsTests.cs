using System.Text.Json;
using MLLrSched.Backend;

namespace MLLrSched.Torch.Tests.Golden;

/// <summary>Every case of tools/golden/data/binding/ops.json replayed through the binding.</summary>
[TestClass]
public class GoldenOpsTests
{
    public static IEnumerable<object[]> Cases => GoldenData.Cases("ops.json");

    private static double D(JsonElement args, string k) => GoldenData.Num(args.GetProperty(k));
    private static long L(JsonElement args, string k) => args.GetProperty(k).GetInt64();
    private static long[] Ls(JsonElement args, string k) => args.GetProperty(k).EnumerateArray().Select(x => x.GetInt64()).ToArray();
    private static bool B(JsonElement args, string k) => args.TryGetProperty(k, out var v) && v.GetBoolean();

    private static Tensor[] Run(string name, Tensor[] x, JsonElement a) => name switch
    {
        "add_alpha" => [x[0].Add(x[1], D(a, "alpha"))],
        "sub_alpha" => [x[0].Sub(x[1], D(a, "alpha"))],
        "mul" => [x[0] * x[1]],
        "div" => [x[0] / x[1]],
        "pow_tensor" => [x[0].Pow(x[1])],
        "pow_scalar" => [x[0].Pow(D(a, "exponent"))],
        "maximum" => [x[0].Maximum(x[1])],
        "minimum" => [x[0].Minimum(x[1])],
        "addcmul" => [x[0].AddCMul(x[1], x[2], D(a, "value"))],
        "addcdiv" => [x[0].AddCDiv(x[1], x[2], D(a, "value"))],
        "lerp_scalar" => [x[0].Lerp(x[1], D(a, "weight"))],
        "lerp_tensor" => [x[0].Lerp(x[1], x[2])],
        "sqrt" => [x[0].Sqrt()], "rsqrt" => [x[0].Rsqrt()], "log" => [x[0].Log()], "reciprocal" => [x[0].Reciprocal()],
        "exp" => [x[0].Exp()], "sign" => [x[0].Sign()], "abs" => [x[0].Abs()], "neg" => [-x[0]],
        "sigmoid" => [x[0].Sigmoid()], "tanh" => [x[0].Tanh()], "relu" => [x[0].Relu()], "square" => [x[0].Square()],
        "floor" => [x[0].Floor()], "ceil" => [x[0].Ceil()], "sin" => [x[0].Sin()], "cos" => [x[0].Cos()], "erf" => [x[0].Erf()],
        "gelu" => [x[0].Gelu()], "gelu_tanh" => [x[0].GeluTanh()], "silu" => [x[0].Silu()], "softplus" => [x[0].Softplus()],
        "leaky_relu" => [x[0].LeakyRelu()], "elu" => [x[0].Elu()], "mish" => [x[0].Mish()],
        "clamp_both" => [x[0].Clamp(D(a, "min"), D(a, "max"))],
        "clamp_min" => [x[0].Clamp(min: D(a, "min"))],
        "add_scalar" => [x[0] + D(a, "value")],
        "mul_scalar" => [x[0] * D(a, "value")],
        "div_scalar" => [x[0] / D(a, "value")],
        "rsub_scalar" => [D(a, "value") - x[0]],
        "where" => [x[1].Where(x[0], x[2])],
        "sum_all" => [x[0].Sum()],
        "sum_dims" => [x[0].Sum(Ls(a, "dims"), B(a, "keepdim"))],
        "mean_all" => [x[0].Mean()],
        "mean_dim" => [x[0].Mean(Ls(a, "dims"), B(a, "keepdim"))],
        "amax_dim" => [x[0].Amax(Ls(a, "dims"), B(a, "keepdim"))],
        "max_all" => [x[0].Max()],
        "min_all" => [x[0].Min()],
        "norm_all" => [x[0].Norm(D(a, "p"))],
        "norm_dim" => [x[0].Norm(D(a, "p"), Ls(a, "dims"), B(a, "keepdim"))],
        "var_dim" => [x[0].Var(Ls(a, "dims"), unbiased: true)],
        "std_biased" => [x[0].Std(Ls(a, "dims"), unbiased: false)],
        "logsumexp" => [x[0].LogSumExp(Ls(a, "dims"))],
        "argmax_dim" => [x[0].ArgMax(L(a, "dim"))],
        "max_dim" => MaxDim(x[0], L(a, "dim")),
        "matmul" or "matmul_batched" => [x[0].MatMul(x[1])],
        "mm" => [x[0].Mm(x[1])],
        "addmm" => [x[0].AddMm(x[1], x[2], D(a, "beta"), D(a, "alpha"))],
        "dot" => [x[0].Dot(x[1])],
        "outer" => [x[0].Outer(x[1])],
        "bmm" => [x[0].Bmm(x[1])],
        "reshape" => [x[0].Reshape(Ls(a, "shape"))],
        "permute" => [x[0].Permute(Ls(a, "dims"))],
        "transpose" => [x[0].Transpose(L(a, "d0"), L(a, "d1"))],
        "flatten" => [x[0].Flatten(L(a, "start"), L(a, "end"))],
        "cat" => [Tensor.Cat(x, L(a, "dim"))],
        "stack" => [Tensor.Stack(x, L(a, "dim"))],
        "narrow" => [x[0].Narrow(L(a, "dim"), L(a, "start"), L(a, "length"))],
        "slice_step" => [x[0].Slice(L(a, "dim"), L(a, "start"), L(a, "end"), L(a, "step"))],
        "select" => [x[0].Select(L(a, "dim"), L(a, "index"))],
        "index_select" => [x[0].IndexSelect(L(a, "dim"), x[1])],
        "gather" => [x[0].Gather(L(a, "dim"), x[1])],
        "masked_select" => [x[0].Index(x[1])],
        "masked_fill" => [x[0].Clone().MaskedFill_(x[1], D(a, "value"))],
        "unsqueeze_squeeze" => [x[0].Unsqueeze(L(a, "dim")).Squeeze(L(a, "dim"))],
        "expand" => [x[0].Expand(Ls(a, "shape"))],
        "cumulative_split" => x[0].Split(L(a, "size"), L(a, "dim")),
        "int_add_scalar" => [x[0] + D(a, "value")],
        "int_floor_div" => [x[0].FloorDivide(x[1])],
        "int_to_float" => [x[0].To(DType.Float32)],
        "eq_scalar" => [x[0].Eq(D(a, "value"))],
        _ => throw new AssertFailedException($"No C# replay for golden op case '{name}'"),
    };

    private static Tensor[] MaxDim(Tensor x, long dim)
    {
        var (v, i) = x.Max(dim);
        return [v, i];
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void OpMatchesPyTorch(string id, JsonElement c)
    {
        using var scope = TensorScope.Open();
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(GoldenData.Decode).ToArray();
        var outputs = Run(c.GetProperty("name").GetString()!, inputs, c.GetProperty("args"));
        var expected = c.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.HasCount(expected.Length, outputs, id);
        for (var i = 0; i < expected.Length; i++) GoldenData.AssertClose(expected[i], outputs[i], $"{id} output {i}");
    }
}
