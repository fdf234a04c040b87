using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using MLLrSched.Tests.Shared;
using MLLrSched.TorchSharpBackend;
using TorchSharp;

namespace MLLrSched.TorchSharp.Tests;

/// <summary><see cref="TorchSharpModuleBuilder"/>: every <see cref="ModuleSpec"/> kind, PyTorch's state_dict names and
/// shapes, forward shapes, PyTorch's initialisation (statistics here; bit for bit against PyTorch's own state_dict in
/// the golden set of tools/golden/module_specs.py).</summary>
[TestClass]
public sealed class ModuleBuilderTests
{
    private static readonly IBackend Sharp = TorchSharpBackend.TorchSharpBackend.Instance;
    private static IModuleBuilder Builder => Sharp.TryGet<IModuleBuilder>() ?? throw new AssertFailedException("no IModuleBuilder");

    /// <summary>The specs of tools/golden/module_specs.py, by case name.</summary>
    internal static readonly Dictionary<string, (ModuleSpec Spec, int[] Input)> Specs = new()
    {
        ["mlp"] = (new SequentialSpec([
            new LinearSpec(20, 16), new BatchNormSpec(16, Spatial: false), new ActivationSpec("relu"), new DropoutSpec(0.2),
            new LinearSpec(16, 8), new ActivationSpec("gelu"), new LayerNormSpec(8), new LinearSpec(8, 3)]), [20]),
        ["cnn"] = (new SequentialSpec([
            new UnflattenSpec([1, 12, 12]), new Conv2dSpec(1, 4, 3, Padding: 1), new BatchNormSpec(4, Spatial: true),
            new ActivationSpec("relu"), new MaxPool2dSpec(2), new Conv2dSpec(4, 8, 3, Bias: false), new ActivationSpec("silu"),
            new FlattenSpec(), new LinearSpec(128, 10)]), [144]),
        ["activations"] = (new SequentialSpec([
            new LinearSpec(6, 6), new ActivationSpec("tanh"), new LinearSpec(6, 6, Bias: false), new ActivationSpec("sigmoid"),
            new ActivationSpec("leaky_relu"), new ActivationSpec("elu"), new LinearSpec(6, 2)]), [6]),
    };

    private static TorchSharpModel Build(ModuleSpec spec, long seed)
    {
        Sharp.ManualSeed(seed);
        return (TorchSharpModel)Builder.Build(spec, Device.Cpu);
    }

    private static string[] StateNames(IModel m) => [.. m.NamedParameters().Select(p => p.Name), .. m.NamedBuffers().Select(b => b.Name)];

    [TestMethod]
    public void Mlp_HasPyTorchStateDictNamesShapesAndDtypes()
    {
        using var model = Build(Specs["mlp"].Spec, 0);
        CollectionAssert.AreEqual(
            new[] { "0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "6.weight", "6.bias", "7.weight", "7.bias" },
            model.NamedParameters().Select(p => p.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "1.running_mean", "1.running_var", "1.num_batches_tracked" },
            model.NamedBuffers().Select(b => b.Name).ToArray());
        var shapes = model.NamedParameters().Concat(model.NamedBuffers()).ToDictionary(p => p.Name, p => p.Tensor);
        CollectionAssert.AreEqual(new long[] { 16, 20 }, shapes["0.weight"].Shape);
        CollectionAssert.AreEqual(new long[] { 16 }, shapes["1.running_var"].Shape);
        CollectionAssert.AreEqual(new long[] { 8 }, shapes["6.weight"].Shape, "LayerNorm(8)");
        CollectionAssert.AreEqual(new long[] { 3, 8 }, shapes["7.weight"].Shape);
        Assert.AreEqual(0, shapes["1.num_batches_tracked"].Dim);
        Assert.AreEqual(DType.Int64, shapes["1.num_batches_tracked"].DType, "num_batches_tracked is int64 as in PyTorch");
        Assert.IsTrue(model.NamedParameters().All(p => p.Tensor.DType == DType.Float32 && p.Tensor.RequiresGrad));
    }

    [TestMethod]
    public void Cnn_HasPyTorchStateDictNamesAndShapes()
    {
        using var model = Build(Specs["cnn"].Spec, 0);
        var all = model.NamedParameters().Concat(model.NamedBuffers()).ToDictionary(p => p.Name, p => p.Tensor.Shape);
        CollectionAssert.AreEquivalent(
            new[] { "1.weight", "1.bias", "2.weight", "2.bias", "2.running_mean", "2.running_var", "2.num_batches_tracked", "5.weight", "8.weight", "8.bias" },
            all.Keys.ToArray());
        CollectionAssert.AreEqual(new long[] { 4, 1, 3, 3 }, all["1.weight"]);
        CollectionAssert.AreEqual(new long[] { 8, 4, 3, 3 }, all["5.weight"]);
        CollectionAssert.AreEqual(new long[] { 10, 128 }, all["8.weight"]);
        Assert.IsFalse(all.ContainsKey("5.bias"), "Conv2d(bias=False) has no bias");
    }

    [TestMethod]
    public void NestedSequentialsAndSingleBlocks_AreNamedAsInPyTorch()
    {
        var spec = new SequentialSpec([new SequentialSpec([new LinearSpec(3, 4), new ActivationSpec("relu")]), new LinearSpec(4, 2)]);
        using var nested = Build(spec, 0);
        CollectionAssert.AreEqual(new[] { "0.0.weight", "0.0.bias", "1.weight", "1.bias" }, StateNames(nested));
        using var single = Build(new LinearSpec(3, 4), 0);
        CollectionAssert.AreEqual(new[] { "weight", "bias" }, StateNames(single));
        using var norm = Build(new BatchNormSpec(5, Spatial: true), 0);
        CollectionAssert.AreEqual(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }, StateNames(norm));
    }

    [TestMethod]
    public void Forward_GivesTheShapeTheSpecPredicts_InTrainAndEvalMode()
    {
        foreach (var (name, (spec, input)) in Specs)
        {
            using var model = Build(spec, 1);
            var expected = new long[] { 5 }.Concat(spec.OutputShape(input).Select(d => (long)d)).ToArray();
            foreach (var training in new[] { true, false })
            {
                model.SetTraining(training);
                Assert.AreEqual(training, model.IsTraining);
                using var scope = Sharp.NewScope();
                var x = Sharp.FromArray(Enumerable.Range(0, 5 * input[0]).Select(i => MathF.Sin(i * 0.1f)).ToArray(), [5, input[0]], Device.Cpu);
                var y = model.Forward(x);
                CollectionAssert.AreEqual(expected, y.Shape, $"{name}, training = {training}");
                Assert.IsTrue(y.ToFloatArray().All(float.IsFinite), name);
            }
        }
    }

    [TestMethod]
    public void Unflatten_ReshapesEachSampleAndKeepsTheValues()
    {
        using var model = Build(new UnflattenSpec([2, 3, 2]), 0);
        var data = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        using var x = Sharp.FromArray(data, [2, 12], Device.Cpu);
        using var y = model.Forward(x);
        CollectionAssert.AreEqual(new long[] { 2, 2, 3, 2 }, y.Shape);
        CollectionAssert.AreEqual(data, y.ToFloatArray());
        using var flat = Build(new FlattenSpec(), 0);
        using var back = flat.Forward(y);
        CollectionAssert.AreEqual(new long[] { 2, 12 }, back.Shape);
    }

    [TestMethod]
    public void Initialisation_HasPyTorchsDistributions()
    {
        using var model = Build(new SequentialSpec([new LinearSpec(1000, 400), new Conv2dSpec(16, 32, 3), new LayerNormSpec(7), new BatchNormSpec(6, false)]), 123);
        var p = model.NamedParameters().Concat(model.NamedBuffers()).ToDictionary(t => t.Name, t => t.Tensor.ToDoubleArray());
        // kaiming_uniform_(a=√5) is U(-1/√fan_in, 1/√fan_in); the bias too.
        AssertUniform(p["0.weight"], 1 / Math.Sqrt(1000), "Linear weight");
        AssertUniform(p["0.bias"], 1 / Math.Sqrt(1000), "Linear bias");
        AssertUniform(p["1.weight"], 1 / Math.Sqrt(16 * 9), "Conv2d weight");
        AssertUniform(p["1.bias"], 1 / Math.Sqrt(16 * 9), "Conv2d bias");
        Assert.IsTrue(p["2.weight"].All(v => v == 1) && p["2.bias"].All(v => v == 0), "LayerNorm: weight 1, bias 0");
        Assert.IsTrue(p["3.weight"].All(v => v == 1) && p["3.bias"].All(v => v == 0), "BatchNorm: weight 1, bias 0");
        Assert.IsTrue(p["3.running_mean"].All(v => v == 0) && p["3.running_var"].All(v => v == 1), "BatchNorm: mean 0, var 1");
        Assert.AreEqual(0, p["3.num_batches_tracked"].Single());
    }

    private static void AssertUniform(double[] v, double bound, string what)
    {
        Assert.IsTrue(v.All(x => Math.Abs(x) <= bound), $"{what}: every value within ±{bound}");
        Assert.IsTrue(v.Max() > 0.9 * bound && v.Min() < -0.9 * bound, $"{what}: the range is used up to ±{bound}");
        if (v.Length < 1000) return;
        var mean = v.Average();
        var variance = v.Select(x => (x - mean) * (x - mean)).Average();
        var sd = bound / Math.Sqrt(3);
        Assert.AreEqual(0, mean, 5 * sd / Math.Sqrt(v.Length), $"{what}: mean");
        Assert.AreEqual(sd * sd, variance, 0.03 * sd * sd, $"{what}: variance of U(-b, b) is b²/3");
    }

    [TestMethod]
    public void Initialisation_FollowsTheSeed()
    {
        var spec = Specs["cnn"].Spec;
        float[][] Weights(long seed)
        {
            using var m = Build(spec, seed);
            return m.NamedParameters().Select(p => p.Tensor.ToFloatArray()).ToArray();
        }
        var a = Weights(9);
        var b = Weights(9);
        var c = Weights(10);
        for (var i = 0; i < a.Length; i++) CollectionAssert.AreEqual(a[i], b[i], "same seed, same weights");
        Assert.IsFalse(a[0].SequenceEqual(c[0]), "another seed, other weights");
    }

    /// <summary>The builder's initial state_dict against PyTorch's for the same spec and seed (tools/golden/module_specs.py),
    /// and the eval-mode outputs for the recorded input. The golden set is PyTorch 2.6's (Debian 13's python3-torch), while
    /// TorchSharp 0.107 runs libtorch 2.10: initialisation draws from the same mt19937 stream with the same kernels in
    /// both, so the weights are compared bit for bit; the outputs go through different libtorch builds' kernels and are
    /// compared to float32 rounding.</summary>
    [TestMethod]
    public void InitialWeightsAndOutputs_MatchPyTorch()
    {
        var set = GoldenSet.For(Sharp.LibtorchVersion) ?? GoldenSet.For("2.6")
            ?? throw new AssertInconclusiveException($"no golden set with modules/module_specs.json (recorded: {string.Join(", ", GoldenSet.Available)})");
        var golden = set.Load("modules/module_specs.json");
        set.AssertMadeByThisSeries(golden.GetProperty("meta"), "module_specs.json");
        var report = new List<string>();
        foreach (var c in golden.GetProperty("cases").EnumerateArray())
        {
            var name = c.GetProperty("name").GetString()!;
            var (spec, _) = Specs[name];
            Assert.AreEqual(c.GetProperty("pytorch").GetString(), spec.ToPyTorch(), $"{name}: the C# spec is the network the script built");
            using var model = Build(spec, c.GetProperty("seed").GetInt64());
            var ours = model.NamedParameters().Concat(model.NamedBuffers()).ToDictionary(p => p.Name, p => p.Tensor);
            var theirs = c.GetProperty("state").EnumerateArray().ToArray();
            CollectionAssert.AreEquivalent(theirs.Select(s => s.GetProperty("name").GetString()).ToArray(), ours.Keys.ToArray(), $"{name}: state_dict keys");
            foreach (var s in theirs)
            {
                var key = s.GetProperty("name").GetString()!;
                var t = s.GetProperty("tensor");
                var mine = ours[key];
                CollectionAssert.AreEqual(t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(), mine.Shape, $"{name} {key}: shape");
                Assert.AreEqual(DTypeInfo.Parse(t.GetProperty("dtype").GetString()!), mine.DType, $"{name} {key}: dtype");
                var expected = t.GetProperty("data").EnumerateArray().Select(d => d.GetDouble()).ToArray();
                var actual = mine.ToDoubleArray();
                var differing = expected.Where((e, i) => (float)e != (float)actual[i]).Count();
                if (differing > 0)
                    report.Add($"{name} {key}: {differing} of {expected.Length} values differ, by at most " +
                               $"{expected.Select((e, i) => Math.Abs(e - actual[i])).Max():G3}");
            }

            model.SetTraining(false);
            using var scope = Sharp.NewScope();
            var input = Tensor(c.GetProperty("input"));
            var output = model.Forward(input).ToDoubleArray();
            var want = c.GetProperty("output_eval").GetProperty("data").EnumerateArray().Select(d => d.GetDouble()).ToArray();
            Assert.AreEqual(want.Length, output.Length, $"{name}: eval output size");
            var worst = want.Select((w, i) => Math.Abs(w - output[i]) / Math.Max(1, Math.Abs(w))).Max();
            if (worst > 1e-5) report.Add($"{name} eval output: differs by up to {worst:G3} (relative)");
        }
        Assert.AreEqual(0, report.Count, $"the TorchSharp engine (libtorch {Sharp.LibtorchVersion}) differs from PyTorch {set.Series}:\n" + string.Join("\n", report));
    }

    private static ITensor Tensor(JsonElement t) => Sharp.FromArray(
        t.GetProperty("data").EnumerateArray().Select(d => (float)d.GetDouble()).ToArray(),
        t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(), Device.Cpu);

    [TestMethod]
    public void UnknownBlocks_AreRefusedByName()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => Builder.Build(new SequentialSpec([new LinearSpec(2, 2), new ActivationSpec("swish")]), Device.Cpu));
        StringAssert.Contains(e.Message, "swish");
        StringAssert.Contains(e.Message, "relu");
        Assert.ThrowsExactly<ArgumentNullException>(() => Builder.Build(null!, Device.Cpu));
    }

    [TestMethod]
    public void Cuda_WithoutGpu_IsRefused()
    {
        if (torch.cuda.is_available()) Assert.Inconclusive("A GPU is present.");
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Builder.Build(new LinearSpec(2, 2), Device.Cuda(0)));
        StringAssert.Contains(e.Message, "cuda:0");
    }

    [TestMethod]
    public void Cuda_WhenAvailable_BuildsThereWithTheCpuInitialisation()
    {
        if (!torch.cuda.is_available()) Assert.Inconclusive("no CUDA device (TorchSharp-cpu, or no GPU)");
        using var cpu = Build(Specs["cnn"].Spec, 4);
        Sharp.ManualSeed(4);
        using var gpu = (TorchSharpModel)Builder.Build(Specs["cnn"].Spec, Device.Cuda(0));
        var a = cpu.NamedParameters();
        var b = gpu.NamedParameters();
        for (var i = 0; i < a.Count; i++)
        {
            Assert.AreEqual(Device.Cuda(0), b[i].Tensor.Device);
            CollectionAssert.AreEqual(a[i].Tensor.ToFloatArray(), b[i].Tensor.ToFloatArray(), a[i].Name);
        }
    }
}
