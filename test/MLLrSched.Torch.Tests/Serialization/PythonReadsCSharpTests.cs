using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Serialization;

namespace MLLrSched.Torch.Tests.Serialization;

/// <summary>
/// Files written here open in Python's torch.load with the same contents: each scenario writes a file
/// and an expectations JSON; one run of <c>serialization.py verify</c> checks them all (see
/// <see cref="PythonVerify"/>). Python also checks every file names only globals that
/// torch.load(weights_only=True), the default since PyTorch 2.6, accepts; files without Python floats
/// are loaded that way (1.13's restricted unpickler cannot read floats). Skipped (inconclusive) only
/// where /usr/bin/python3 with torch is absent.
/// </summary>
[TestClass]
public class PythonReadsCSharpTests
{
    private static string _dir = "";
    private static PythonVerify? _verdict;
    private static readonly Dictionary<string, string> Files = new();

    [ClassInitialize]
    public static void WriteFilesAndRunPython(TestContext _)
    {
        _dir = Path.Combine(Path.GetTempPath(), "mllrsched-serialization-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        using var scope = TensorScope.Open();
        Torch.ManualSeed(11);

        Scenario("sequential", file =>
        {
            var sd = new OrderedDictionary<string, Tensor>
            {
                ["0.weight"] = Tensor.Randn([3, 4]), ["0.bias"] = Tensor.Randn([3]),
                ["2.weight"] = Tensor.Randn([2, 3]), ["2.bias"] = Tensor.Randn([2]),
            };
            TorchFile.Save(file, sd);
            return (ToDict(sd), null, "sequential_4_3_2");
        });

        Scenario("batchnorm", file =>
        {
            var sd = new OrderedDictionary<string, Tensor>
            {
                ["0.weight"] = Tensor.Randn([4, 3]), ["0.bias"] = Tensor.Randn([4]),
                ["1.weight"] = Tensor.Rand([4]), ["1.bias"] = Tensor.Randn([4]),
                ["1.running_mean"] = Tensor.Randn([4]), ["1.running_var"] = Tensor.Rand([4]),
                ["1.num_batches_tracked"] = Tensor.Scalar(17, DType.Int64),
            };
            TorchFile.Save(file, sd);
            return (ToDict(sd), null, "batchnorm_3_4");
        });

        Scenario("dtypes", file =>
        {
            var floats = new[] { 0.5f, -1.25f, 3f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, -0f, 1e-3f };
            using var f32 = Tensor.FromArray(floats);
            var d = new TorchDict
            {
                { "float32", Tensor.FromArray(floats) },
                { "float64", Tensor.FromArray(new[] { 0.1, -2.5, double.MaxValue, double.Epsilon, double.NaN }) },
                { "float16", Tensor.FromArray(new[] { (Half)0.5, (Half)(-3), Half.MaxValue, Half.Epsilon, Half.NegativeInfinity }) },
                { "bfloat16", f32.To(DType.BFloat16) },
                { "int64", Tensor.FromArray(new[] { 0L, long.MinValue, long.MaxValue, -7 }) },
                { "int32", Tensor.FromArray(new[] { int.MinValue, int.MaxValue, 0, 5 }, 2, 2) },
                { "int16", Tensor.FromArray(new short[] { short.MinValue, short.MaxValue, 3 }) },
                { "int8", Tensor.FromArray(new sbyte[] { -128, 127, 0 }) },
                { "uint8", Tensor.FromArray(new byte[] { 0, 255, 128 }) },
                { "bool", Tensor.FromArray(new[] { true, false, true, true }, 2, 2) },
            };
            TorchFile.SaveValue(file, d);
            return (d, null, null);
        });

        Scenario("views", file =>
        {
            var baseT = Tensor.Arange(0, 24, 1, DType.Float32).Reshape(4, 6);
            var d = new TorchDict
            {
                { "base", baseT },
                { "transposed", baseT.T },
                { "every_other_column", baseT.Slice(1, 1, 6, 2) },
                { "row2", baseT.Select(0, 2) },
                { "tied", baseT },                                   // the same tensor object again
                { "expanded", Tensor.FromArray(new[] { 1f, 2f }, 2, 1).Expand(2, 3) },
                { "separate", Tensor.Randn([3]) },
            };
            TorchFile.SaveValue(file, d);
            object[][] group = [["base"], ["transposed"], ["every_other_column"], ["row2"], ["tied"]];
            return (d, new IEnumerable<object[]>[] { group }, null);
        });

        Scenario("checkpoint", file =>
        {
            var weights = new TorchDict { IsOrderedDict = true };
            weights.Add("w", Tensor.Randn([2, 3]));
            var d = new TorchDict
            {
                { "model", weights },
                { "optimizer", new TorchDict
                    {
                        { "state", new TorchDict { { 0L, new TorchDict { { "step", Tensor.Scalar(3) }, { "exp_avg", Tensor.Zeros([2, 3]) } } } } },
                        { "param_groups", new List<object?> { new TorchDict { { "lr", 0.01 }, { "betas", new TorchTuple(0.9, 0.999) }, { "params", new List<object?> { 0L } }, { "foreach", null } } } },
                    }
                },
                { "epoch", 12L },
                { "int_from_int32", 5 },
                { "float_from_single", 0.25f },
                { "big", long.MaxValue },
                { "negative", -3L },
                { "flags", new List<object?> { true, false, null } },
                { "empty_list", new List<object?>() },
                { "empty_tuple", new TorchTuple() },
                { "empty_dict", new TorchDict() },
                { "name", "run-1 héllo ✓ \"quoted\"" },
                { "json", "{\"model\": \"mlp\", \"layers\": [4, 3, 2]}" },
                { "scalar0d", Tensor.Scalar(2.5) },
                { "empty", Tensor.Zeros([2, 0, 3], DType.Int64) },
                { "nested", new List<object?> { new TorchTuple(1L, "two", new List<object?> { 3.0 }) } },
                { "tensor_list", new List<object?> { Tensor.Ones([2]), Tensor.Arange(3) } },
            };
            TorchFile.SaveValue(file, d);
            // What Python will see: int and float widen to Python int and float.
            d["int_from_int32"] = 5L;
            d["float_from_single"] = 0.25;
            return (d, null, null);
        });

        Scenario("bytes_variant", file =>
        {
            var sd = new OrderedDictionary<string, Tensor> { ["a"] = Tensor.Randn([5]), ["b"] = Tensor.Arange(4) };
            File.WriteAllBytes(file, TorchFile.SaveToBytes(sd));
            return (ToDict(sd), null, null);
        });

        Scenario("stream_variant", file =>
        {
            var sd = new OrderedDictionary<string, Tensor> { ["x"] = Tensor.Randn([2, 2]) };
            using (var s = File.Create(file)) TorchFile.Save(s, sd);
            return (ToDict(sd), null, null);
        });

        // Proves the checker can fail: the expectation is deliberately wrong.
        Scenario("deliberate_mismatch", file =>
        {
            TorchFile.SaveValue(file, new TorchDict { { "x", Tensor.FromArray(new[] { 1f, 2f }) } });
            return (new TorchDict { { "x", Tensor.FromArray(new[] { 1f, 2.5f }) } }, null, null);
        });

        // Proves the weights_only check can fail: libtorch's own pickle_save tags containers with
        // torch.jit._pickle.restore_type_tag, which PyTorch ≥ 2.6 refuses by default. The file is made by hand the
        // way pickle_save writes {"x": tensor}: restore_type_tag({"x": tensor}, "Dict[str, Tensor]").
        Scenario("tagged_by_pickle_save", file =>
        {
            File.WriteAllBytes(file, TypeTaggedLikePickleSave());
            return (new TorchDict { { "x", Tensor.Ones([2]) } }, null, null);
        });

        _verdict = PythonVerify.Run(Files.Select(kv => (kv.Value, kv.Value + ".json")));
    }

    private static void Scenario(string name, Func<string, (object? Expected, IEnumerable<object[]>[]? Shared, string? LoadInto)> write)
    {
        var file = Path.Combine(_dir, name + ".pt");
        var (expected, shared, loadInto) = write(file);
        GoldenValues.WriteExpectations(file + ".json", expected, shared, loadInto, weightsOnly: !HasPythonFloat(expected));
        Files[name] = file;
    }

    private static bool HasPythonFloat(object? v) => v switch
    {
        double or float => true,
        TorchDict d => d.Values.Any(HasPythonFloat),
        List<object?> l => l.Any(HasPythonFloat),
        TorchTuple t => t.Any(HasPythonFloat),
        _ => false,
    };

    /// <summary>{"x": ones(2)} with the type tag torch::jit::pickle_save puts on containers.</summary>
    private static byte[] TypeTaggedLikePickleSave()
    {
        var pickle = new PickleBuilder()
            .Global("torch.jit._pickle", "restore_type_tag")
            .Op('(').Op('}').Str("x").Tensor("0", 2, size: [2], stride: [1]).Op('s').Str("Dict[str, Tensor]").Op('t')
            .Op('R').Stop();
        return ZipFixtures.WithPickle(pickle, ("0", Tensor.Ones([2]).ToBytes()));
    }

    private static TorchDict ToDict(OrderedDictionary<string, Tensor> sd)
    {
        var d = new TorchDict();
        foreach (var (k, v) in sd) d.Add(k, v);
        return d;
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static void AssertPythonReads(string name)
    {
        if (_verdict!.Unavailable != null) Assert.Inconclusive($"Python check skipped: {_verdict.Unavailable}.");
        var line = _verdict.LineFor(Files[name]);
        Assert.StartsWith("OK ", line, line);
    }

    [TestMethod] public void SequentialStateDictLoadsIntoNnSequential() => AssertPythonReads("sequential");
    [TestMethod] public void BatchNormStateDictLoadsIntoNnBatchNorm() => AssertPythonReads("batchnorm");
    [TestMethod] public void EveryDTypeRoundTripsBitExactly() => AssertPythonReads("dtypes");
    [TestMethod] public void ViewsAndTiedWeightsShareOneStorage() => AssertPythonReads("views");
    [TestMethod] public void NestedCheckpointKeepsTypesAndOrder() => AssertPythonReads("checkpoint");
    [TestMethod] public void ByteArrayVariantWritesTheSameFormat() => AssertPythonReads("bytes_variant");
    [TestMethod] public void StreamVariantWritesTheSameFormat() => AssertPythonReads("stream_variant");

    [TestMethod]
    public void TheCheckerRejectsTypeTagsThatWeightsOnlyLoadingRefuses()
    {
        if (_verdict!.Unavailable != null) Assert.Inconclusive($"Python check skipped: {_verdict.Unavailable}.");
        var line = _verdict.LineFor(Files["tagged_by_pickle_save"]);
        StringAssert.StartsWith(line, "MISMATCH", line);
        StringAssert.Contains(line, "torch.jit._pickle.restore_type_tag", line);
    }

    [TestMethod]
    public void TheCheckerReportsAMismatch()
    {
        if (_verdict!.Unavailable != null) Assert.Inconclusive($"Python check skipped: {_verdict.Unavailable}.");
        StringAssert.StartsWith(_verdict.LineFor(Files["deliberate_mismatch"]), "MISMATCH");
        Assert.AreEqual(1, _verdict.ExitCode, _verdict.Output); // non-zero when any file fails
    }
}
