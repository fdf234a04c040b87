using System.Text.Json;

namespace MLLrSched.Torch.Tests.Golden;

/// <summary>Every case of tools/golden/data/binding/functional.json replayed through <see cref="F"/>.</summary>
[TestClass]
public class GoldenFunctionalTests
{
    public static IEnumerable<object[]> Cases => GoldenData.Cases("functional.json");

    private static double D(JsonElement a, string k) => GoldenData.Num(a.GetProperty(k));
    private static (long, long) P(JsonElement a, string k)
    {
        var v = a.GetProperty(k).EnumerateArray().Select(x => x.GetInt64()).ToArray();
        return (v[0], v[1]);
    }
    private static Reduction R(JsonElement a) =>
        a.TryGetProperty("reduction", out var r) ? r.GetString() switch { "sum" => Reduction.Sum, "none" => Reduction.None, _ => Reduction.Mean } : Reduction.Mean;

    private static Tensor[] Run(string name, Tensor[] x, JsonElement a) => name switch
    {
        "linear" => [F.Linear(x[0], x[1], x[2])],
        "linear_nobias" => [F.Linear(x[0], x[1])],
        "conv2d" or "conv2d_s2_p1" or "conv2d_dil" or "conv2d_groups" =>
            [F.Conv2d(x[0], x[1], x.Length > 2 ? x[2] : null, P(a, "stride"), P(a, "padding"), P(a, "dilation"), a.GetProperty("groups").GetInt64())],
        "max_pool2d" or "max_pool2d_ceil" => [F.MaxPool2d(x[0], P(a, "kernel"), P(a, "stride"), P(a, "padding"), ceilMode: a.GetProperty("ceil").GetBoolean())],
        "avg_pool2d" => [F.AvgPool2d(x[0], P(a, "kernel"), P(a, "stride"), P(a, "padding"), a.GetProperty("ceil").GetBoolean())],
        "adaptive_avg_pool2d" => [F.AdaptiveAvgPool2d(x[0], P(a, "out").Item1, P(a, "out").Item2)],
        "layer_norm" => [F.LayerNorm(x[0], [5], x[1], x[2], D(a, "eps"))],
        "batch_norm_train" => BatchNormTrain(x, a),
        "batch_norm_eval" => [F.BatchNorm(x[0], x[1], x[2], x[3], x[4], training: false, eps: D(a, "eps"))],
        "embedding" => [F.Embedding(x[0], x[1])],
        "log_softmax" => [F.LogSoftmax(x[0], a.GetProperty("dim").GetInt64())],
        "softmax" => [F.Softmax(x[0], a.GetProperty("dim").GetInt64())],
        "cross_entropy" or "cross_entropy_sum" or "cross_entropy_none" or "cross_entropy_ignore" or "cross_entropy_probs" =>
            [F.CrossEntropy(x[0], x[1], reduction: R(a))],
        "cross_entropy_weight" => [F.CrossEntropy(x[0], x[1], x[2])],
        "cross_entropy_ignore2" => [F.CrossEntropy(x[0], x[1], ignoreIndex: a.GetProperty("ignore_index").GetInt64())],
        "cross_entropy_smooth" => [F.CrossEntropy(x[0], x[1], labelSmoothing: D(a, "label_smoothing"))],
        "cross_entropy_smooth_weight_ignore" => [F.CrossEntropy(x[0], x[1], x[2], labelSmoothing: D(a, "label_smoothing"))],
        "nll_loss" => [F.NllLoss(x[0], x[1])],
        "nll_loss_weight_sum" => [F.NllLoss(x[0], x[1], x[2], R(a))],
        "mse_loss" or "mse_loss_none" => [F.MseLoss(x[0], x[1], R(a))],
        "l1_loss" => [F.L1Loss(x[0], x[1])],
        "smooth_l1_loss" => [F.SmoothL1Loss(x[0], x[1], beta: D(a, "beta"))],
        "huber_loss" => [F.HuberLoss(x[0], x[1], delta: D(a, "delta"))],
        "bce_with_logits" => [F.BinaryCrossEntropyWithLogits(x[0], x[1])],
        "bce_with_logits_weights" => [F.BinaryCrossEntropyWithLogits(x[0], x[1], x[2], x[3])],
        "one_hot" => [F.OneHot(x[0], a.GetProperty("num_classes").GetInt64())],
        _ => throw new AssertFailedException($"No C# replay for golden functional case '{name}'"),
    };

    private static Tensor[] BatchNormTrain(Tensor[] x, JsonElement a)
    {
        var rm = x[1].Clone();
        var rv = x[2].Clone();
        var y = F.BatchNorm(x[0], rm, rv, x[3], x[4], training: true, momentum: D(a, "momentum"), eps: D(a, "eps"));
        return [y, rm, rv];
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void FunctionalMatchesPyTorch(string id, JsonElement c)
    {
        using var scope = TensorScope.Open();
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(GoldenData.Decode).ToArray();
        var outputs = Run(c.GetProperty("name").GetString()!, inputs, c.GetProperty("args"));
        var expected = c.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.HasCount(expected.Length, outputs, id);
        for (var i = 0; i < expected.Length; i++) GoldenData.AssertClose(expected[i], outputs[i], $"{id} output {i}", rtol: 1e-5, atol: 1e-6);
    }
}
