using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Tests.Serialization;

namespace MLLrSched.Torch.Tests.Persistence;

/// <summary>
/// An engine without <see cref="ITensorStorageSharing"/> (the native engine with the capability hidden): views are
/// saved as their own elements and storages shared in a file load as separate tensors, with the right values either
/// way. Python reading such a file is checked in <see cref="PythonReadsStateFileTests"/>.
/// </summary>
[TestClass]
public class StateFileWithoutSharingTests
{
    private static readonly IBackend Plain = NoSharingBackend.Native;

    private static ITensor Hidden(Tensor t) => ForwardingTensor.Wrap(t, Plain);

    private static List<ZipLayout.Record> StorageRecords(byte[] file) =>
        ZipLayout.Read(file).Records.Where(r => r.Name.StartsWith("archive/data/", StringComparison.Ordinal)).ToList();

    /// <summary>The views of <see cref="PythonReadsStateFileTests"/>'s scenario, each wrapped so that the writer asks
    /// the capability-less engine. "tied" is the same object as "base".</summary>
    internal static TorchDict ViewsAndTiedWeights(Tensor baseT)
    {
        var hiddenBase = Hidden(baseT);
        return new TorchDict
        {
            { "base", hiddenBase },
            { "transposed", Hidden(baseT.T) },
            { "every_other_column", Hidden(baseT.Slice(1, 1, 6, 2)) },
            { "row2", Hidden(baseT.Select(0, 2)) },
            { "tied", hiddenBase },
            { "expanded", Hidden(Tensor.FromArray(new[] { 1f, 2f }, 2, 1).Expand(2, 3)) },
        };
    }

    [TestMethod]
    public void ViewsAreSavedAsTheirOwnElementsAndTiedWeightsOnce()
    {
        using var scope = TensorScope.Open();
        var baseT = Tensor.Arange(0, 24, 1, DType.Float32).Reshape(4, 6);
        var value = ViewsAndTiedWeights(baseT);
        var bytes = StateFile.SaveToBytes(value);
        var file = ZipLayout.Read(bytes);
        var records = StorageRecords(bytes);
        Assert.HasCount(5, records, "base/tied once, then one record per view");
        CollectionAssert.AreEqual(baseT.ToBytes(), ZipLayout.Data(bytes, records[0]));
        CollectionAssert.AreEqual(baseT.T.Contiguous().ToBytes(), ZipLayout.Data(bytes, records[1]), "row-major elements of the view");
        Assert.AreEqual(6L * 4, records[4].Size, "an expanded view is saved as its 6 elements");

        foreach (var backend in new IBackend[] { NativeBackend.Instance, Plain })
        {
            var loaded = (TorchDict)StateFile.Load(bytes, backend)!;
            foreach (var (key, original) in value)
            {
                var t = (Tensor)loaded.Get<ITensor>((string)key);
                CollectionAssert.AreEqual(((ITensor)original!).ToBytes(), t.ToBytes(), $"{key} on {backend.Name}");
                Assert.IsTrue(t.IsContiguous, $"{key}: saved contiguous, loaded contiguous");
            }
        }
        Assert.AreEqual(1, file.Records.Count(r => r.Name == "archive/data.pkl"));
    }

    [TestMethod]
    public void TiedWeightsLoadAsSeparateTensorsWithTheSameValues()
    {
        using var scope = TensorScope.Open();
        var w = Tensor.Randn([3, 4]);
        var bytes = StateFile.SaveToBytes(new TorchDict { { "a", w }, { "b", w } });
        var sd = StateFile.LoadStateDict(bytes, Plain);
        CollectionAssert.AreEqual(w.ToBytes(), sd["a"].ToBytes());
        CollectionAssert.AreEqual(w.ToBytes(), sd["b"].ToBytes());
        Assert.IsFalse(GoldenValues.SharesMemory((Tensor)sd["a"], (Tensor)sd["b"]), "without the capability each tensor is its own copy");
    }

    public static IEnumerable<object[]> Fixtures()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(GoldenValues.Fixture("manifest.json")));
        return manifest.RootElement.GetProperty("fixtures").EnumerateArray().Select(f => new object[] { f.GetString()! }).ToList();
    }

    /// <summary>Every file Python wrote — views, slices, tied and strided tensors included — gives the same values
    /// on an engine without the capability as on the native engine with it (which PythonFixtureTests checks
    /// against torch.load bit for bit).</summary>
    [TestMethod]
    [DynamicData(nameof(Fixtures))]
    public void PythonFilesLoadWithTheSameValuesAsWithSharing(string name)
    {
        using var scope = TensorScope.Open();
        var path = GoldenValues.Fixture(name + ".pt");
        AssertSameValues(StateFile.Load(path, NativeBackend.Instance), StateFile.Load(path, Plain), "root");
    }

    private static void AssertSameValues(object? expected, object? actual, string path)
    {
        switch (expected)
        {
            case ITensor e:
                var a = (ITensor)actual!;
                Assert.AreEqual(e.DType, a.DType, path);
                CollectionAssert.AreEqual(e.Shape, a.Shape, path);
                CollectionAssert.AreEqual(e.ToBytes(), a.ToBytes(), path);
                Assert.AreEqual(e.RequiresGrad, a.RequiresGrad, path);
                break;
            case TorchDict d:
                var ad = (TorchDict)actual!;
                CollectionAssert.AreEqual(d.Keys.ToArray(), ad.Keys.ToArray(), path);
                foreach (var (k, v) in d) AssertSameValues(v, k is string s ? ad[s] : ad[(long)k], $"{path}[{TorchDict.FormatKey(k)}]");
                break;
            case List<object?> l:
                var al = (List<object?>)actual!;
                Assert.HasCount(l.Count, al, path);
                for (var i = 0; i < l.Count; i++) AssertSameValues(l[i], al[i], $"{path}[{i}]");
                break;
            case TorchTuple t:
                var at = (TorchTuple)actual!;
                Assert.AreEqual(t.Count, at.Count, path);
                for (var i = 0; i < t.Count; i++) AssertSameValues(t[i], at[i], $"{path}[{i}]");
                break;
            default:
                Assert.AreEqual(expected, actual, path);
                break;
        }
    }
}
