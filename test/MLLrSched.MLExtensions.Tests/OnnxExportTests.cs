using MLLrSched.Backend;
using MLLrSched.Backend.Modules;
using MLLrSched.Models;
using MLLrSched.Onnx;
using MLLrSched.Training;

namespace MLLrSched.MLExtensions.Tests;

/// <summary>The engine-neutral exporter: every block, the built-in MLP and CNN and networks assembled from their blocks give
/// ONNX Runtime outputs within 1e-5 of the engine's forward pass with the same weights.</summary>
[TestClass]
public sealed class OnnxExportTests
{
    /// <summary>Initialised on the engine (seeded), with BatchNorm running statistics made non-trivial, on the host.</summary>
    private static IReadOnlyDictionary<string, HostTensor> Weights(ModuleSpec spec, int seed)
    {
        var b = TestEngine.Backend;
        b.ManualSeed(seed);
        using var model = ModelFactory.Build(spec, b);
        var state = new Dictionary<string, HostTensor>(HostTensor.StateDict(ModelState.StateDict(model)));
        var i = 0;
        foreach (var key in state.Keys.ToArray())
        {
            var t = state[key];
            if (key.EndsWith("running_mean", StringComparison.Ordinal)) state[key] = t with { Data = TestEngine.Random(t.Data.Length, seed + ++i, 0.5f) };
            if (key.EndsWith("running_var", StringComparison.Ordinal)) state[key] = t with { Data = TestEngine.Random(t.Data.Length, seed + ++i, 0.4f).Select(v => v + 1f).ToArray() };
            if (key.EndsWith(".bias", StringComparison.Ordinal) && spec is SequentialSpec) state[key] = t with { Data = TestEngine.Random(t.Data.Length, seed + ++i, 0.3f) };
        }
        return state;
    }

    private static double Compare(ModuleSpec spec, int[] sample, int batch = 7, OnnxExportOptions? options = null, int seed = 3)
    {
        var state = Weights(spec, seed);
        var o = options ?? new OnnxExportOptions();
        var onnx = OnnxExporter.ExportBytes(spec, sample, state, o);
        var n = o.Batch == OnnxBatchMode.SingleRow ? 1 : batch;
        var x = TestEngine.Random(n * sample.Aggregate(1, (a, v) => a * v), seed + 100, 2f);
        long[] shape = [n, .. sample.Select(v => (long)v)];
        var torch = TestEngine.Forward(spec, state, x, shape);
        long[] onnxShape = o.FlatInput ? [n, sample.Aggregate(1, (a, v) => a * v)] : shape;
        var ort = TestEngine.RunOnnx(onnx, o.InputName, x, onnxShape);
        var diff = TestEngine.MaxAbsDiff(torch, ort);
        Console.WriteLine($"max |engine − ONNX Runtime| = {diff:G3}: {spec.ToPyTorch().Replace("\n", " ")}");
        return diff;
    }

    [TestMethod]
    public void Mlp_EveryActivationAndNormalisation_MatchesTheEngineWithin1e5()
    {
        foreach (var activation in ActivationSpec.Kinds)
            foreach (var norm in new[] { "none", "batchnorm", "layernorm" })
            {
                var spec = ModelFactory.MlpSpec(new MlpOptions { InputSize = 20, HiddenSizes = [16, 12], OutputSize = 5, Activation = activation, Normalization = norm, Dropout = 0.3 });
                var diff = Compare(spec, [20]);
                Assert.IsTrue(diff <= 1e-5, $"{activation}/{norm}: max |torch − onnx| = {diff:G3}");
            }
    }

    [TestMethod]
    public void Cnn_OddImageSizes_FlatAndImageInputs_MatchTheEngineWithin1e5()
    {
        var spec = ModelFactory.CnnSpec(new CnnOptions { InputChannels = 2, Height = 13, Width = 10, Channels = [4, 6], Hidden = 16, Classes = 3 });
        Assert.IsTrue(Compare(spec, [2, 13, 10]) is var d1 && d1 <= 1e-5, $"image input: {d1:G3}");
        Assert.IsTrue(Compare(spec, [2, 13, 10], options: new OnnxExportOptions { FlatInput = true }) is var d2 && d2 <= 1e-5, $"flat input: {d2:G3}");
        Assert.IsTrue(Compare(spec, [2, 13, 10], options: new OnnxExportOptions { FlatInput = true, Batch = OnnxBatchMode.SingleRow }) is var d3 && d3 <= 1e-5, $"single row: {d3:G3}");
    }

    [TestMethod]
    public void AssembledNetworks_StridedPaddedConv_Unflatten_LinearOnRank3_MatchTheEngineWithin1e5()
    {
        var conv = new SequentialSpec([
            new UnflattenSpec([3, 9, 8]), new Conv2dSpec(3, 5, 3, Stride: 2, Padding: 1), new BatchNormSpec(5, Spatial: true), new ActivationSpec("elu"),
            new Conv2dSpec(5, 4, 2, Bias: false), new ActivationSpec("silu"), new MaxPool2dSpec(2), new FlattenSpec(), new DropoutSpec(0.5),
            new LinearSpec(8, 6), new LayerNormSpec(6), new ActivationSpec("gelu"), new LinearSpec(6, 2, Bias: false),
        ]);
        Assert.IsTrue(Compare(conv, [3 * 9 * 8]) is var d1 && d1 <= 1e-5, $"conv: {d1:G3}");
        var rank3 = new SequentialSpec([
            new UnflattenSpec([4, 6]), new LinearSpec(6, 3), new ActivationSpec("tanh"), new LayerNormSpec(3), new FlattenSpec(),
            new BatchNormSpec(12, Spatial: false), new ActivationSpec("sigmoid"), new LinearSpec(12, 2),
        ]);
        Assert.IsTrue(Compare(rank3, [24]) is var d2 && d2 <= 1e-5, $"Linear on [N, 4, 6]: {d2:G3}");
    }

    [TestMethod]
    public void Export_CarriesSpecShapeAndWeights_ReadBackExportsTheSameGraph()
    {
        var spec = ModelFactory.CnnSpec(new CnnOptions { InputChannels = 1, Height = 8, Width = 8, Channels = [3], Hidden = 5, Classes = 4 });
        var state = Weights(spec, 9);
        var single = OnnxExporter.ExportBytes(spec, [1, 8, 8], state, new OnnxExportOptions { Batch = OnnxBatchMode.SingleRow, FlatInput = true, InputName = "Features" });
        var (spec2, shape2, state2) = OnnxExporter.ReadBack(single);
        Assert.AreEqual(spec, spec2);
        CollectionAssert.AreEqual(new[] { 1, 8, 8 }, shape2);
        foreach (var (k, v) in state.Where(kv => !kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)))
        {
            CollectionAssert.AreEqual(v.Shape, state2[k].Shape, k);
            CollectionAssert.AreEqual(v.Data, state2[k].Data, k);
        }
        CollectionAssert.AreEqual(OnnxExporter.ExportBytes(spec, [1, 8, 8], state), OnnxExporter.ExportBytes(spec2, shape2, state2));
        var model = global::Onnx.ModelProto.Parser.ParseFrom(single);
        Assert.AreEqual(OnnxExporter.Opset, model.OpsetImport.Single().Version);
        StringAssert.Contains(model.DocString, "nn.Conv2d(1, 3, 3, padding=1)");
        Assert.AreEqual(ModuleSpecJson.Serialize(spec), model.MetadataProps.Single(p => p.Key == OnnxExporter.SpecKey).Value);
    }

    [TestMethod]
    public void Errors_NameTheMissingTensorTheWrongShapeAndTheUnexportableBlock()
    {
        var spec = new SequentialSpec([new LinearSpec(4, 3), new ActivationSpec("relu"), new LinearSpec(3, 2)]);
        var state = new Dictionary<string, HostTensor>(Weights(spec, 1));
        state.Remove("2.bias");
        var e = Assert.ThrowsExactly<ArgumentException>(() => OnnxExporter.Export(spec, [4], state));
        StringAssert.Contains(e.Message, "no '2.bias'");
        state["2.bias"] = new HostTensor([3], new float[3]);
        e = Assert.ThrowsExactly<ArgumentException>(() => OnnxExporter.Export(spec, [4], state));
        StringAssert.Contains(e.Message, "'2.bias' has shape [3]; the network needs [2]");
        state["2.bias"] = new HostTensor([2], new float[2]);
        state["9.weight"] = new HostTensor([1], new float[1]);
        e = Assert.ThrowsExactly<ArgumentException>(() => OnnxExporter.Export(spec, [4], state));
        StringAssert.Contains(e.Message, "does not use: 9.weight");
        var odd = new SequentialSpec([new LinearSpec(4, 3), new OddSpec()]);
        StringAssert.Contains(OnnxExporter.WhyNotExportable(odd), "OddSpec");
        Assert.ThrowsExactly<NotSupportedException>(() => OnnxExporter.Export(odd, [4], state));
    }

    private sealed record OddSpec : ModuleSpec
    {
        public override string ToPyTorch() => "Odd()";
        public override int[] OutputShape(int[] input) => input;
    }
}
