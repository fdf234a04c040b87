using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Modules;
using MLLrSched.Torch.Tests.Serialization;

namespace MLLrSched.Torch.Tests.Persistence;

/// <summary>
/// Files StateFile writes through the seam open in Python's torch.load with the same contents (one run of
/// <c>serialization.py verify</c>, see <see cref="PythonVerify"/>), including the file an engine without
/// <see cref="ITensorStorageSharing"/> writes and the ZIP64 forms. Skipped (inconclusive) only where /usr/bin/python3
/// with torch is absent.
/// </summary>
[TestClass]
public class PythonReadsStateFileTests
{
    private static string _dir = "";
    private static PythonVerify? _verdict;
    private static readonly Dictionary<string, string> Files = new();

    [ClassInitialize]
    public static void WriteFilesAndRunPython(TestContext _)
    {
        _dir = Path.Combine(Path.GetTempPath(), "mllrsched-statefile-python-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        using var scope = TensorScope.Open();
        Torch.ManualSeed(23);

        Scenario("seam_state_dict", file =>
        {
            using var net = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
            var named = ((IModel)net).NamedParameters();
            StateFile.SaveStateDict(file, named);
            var expected = new TorchDict();
            foreach (var (name, t) in named) expected.Add(name, ((Tensor)t).Detach());
            return (expected, null, "sequential_4_3_2");
        });

        Scenario("no_sharing_views", file =>
        {
            var baseT = Tensor.Arange(0, 24, 1, DType.Float32).Reshape(4, 6);
            var value = StateFileWithoutSharingTests.ViewsAndTiedWeights(baseT);
            StateFile.Save(file, value);
            // What Python sees: every view as a contiguous tensor of its own; "tied" still the same storage as "base".
            var expected = new TorchDict();
            foreach (var (key, t) in value) expected.Add((string)key, Tensor.FromBytes(((ITensor)t!).ToBytes(), DType.Float32, ((ITensor)t).Shape));
            object[][] tied = [["base"], ["tied"]];
            return (expected, new IEnumerable<object[]>[] { tied }, null);
        });

        Scenario("zip64", file =>
        {
            var value = new TorchDict { { "w", Tensor.Randn([3, 4]) }, { "step", Tensor.Scalar(9, DType.Int64) }, { "epoch", 4L } };
            var saved = ZipWriter.Zip64Threshold;
            try
            {
                ZipWriter.Zip64Threshold = 0;
                StateFile.Save(file, value);
            }
            finally
            {
                ZipWriter.Zip64Threshold = saved;
            }
            return (value, null, null);
        });

        // Proves the layout check can fail: the same records as a file StateFile writes, re-zipped by
        // System.IO.Compression, whose data is not 64-byte aligned.
        Scenario("unaligned", file =>
        {
            var value = new TorchDict { { "x", Tensor.FromArray(new[] { 1f, 2f }) } };
            File.WriteAllBytes(file, ZipFixtures.Build(ZipFixtures.Records(StateFile.SaveToBytes(value)).ToArray()));
            return (value, null, null);
        });

        _verdict = PythonVerify.Run(Files.Select(kv => (kv.Value, kv.Value + ".json")));
    }

    private static void Scenario(string name, Func<string, (TorchDict Expected, IEnumerable<object[]>[]? Shared, string? LoadInto)> write)
    {
        var file = Path.Combine(_dir, name + ".pt");
        var (expected, shared, loadInto) = write(file);
        // No Python floats in these values, so Python loads them with weights_only=True, as PyTorch ≥ 2.6 does by default.
        GoldenValues.WriteExpectations(file + ".json", expected, shared, loadInto, weightsOnly: true);
        Files[name] = file;
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static string Line(string name)
    {
        if (_verdict!.Unavailable != null) Assert.Inconclusive($"Python check skipped: {_verdict.Unavailable}.");
        return _verdict.LineFor(Files[name]);
    }

    [TestMethod]
    public void StateDictOfAModelLoadsIntoNnSequential() => Assert.StartsWith("OK ", Line("seam_state_dict"), Line("seam_state_dict"));

    [TestMethod]
    public void FileOfAnEngineWithoutSharingLoads() => Assert.StartsWith("OK ", Line("no_sharing_views"), Line("no_sharing_views"));

    [TestMethod]
    public void Zip64FormsLoad() => Assert.StartsWith("OK ", Line("zip64"), Line("zip64"));

    [TestMethod]
    public void TheCheckerRejectsUnalignedRecords()
    {
        var line = Line("unaligned");
        StringAssert.StartsWith(line, "MISMATCH", line);
        StringAssert.Contains(line, "not on a 64-byte boundary", line);
    }
}
