using System.Text;
using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Modules;
using MLLrSched.Torch.Tests.Serialization;

namespace MLLrSched.Torch.Tests.Persistence;

/// <summary>StateFile through the seam only: ITensors of the native engine in, ITensors out, as an engine-neutral
/// caller (the training layer) uses it.</summary>
[TestClass]
public class StateFileSeamTests
{
    private static readonly IBackend B = NativeBackend.Instance;

    private static ITensor Floats(params float[] values) => B.FromArray(values, [values.Length], Device.Cpu);

    private static string TempFile() => Path.Combine(Path.GetTempPath(), $"mllrsched-statefile-{Guid.NewGuid():N}.pt");

    private static List<ZipLayout.Record> StorageRecords(byte[] file) =>
        ZipLayout.Read(file).Records.Where(r => r.Name.StartsWith("archive/data/", StringComparison.Ordinal)).ToList();

    [TestMethod]
    public void NestedValueRoundTripsAsITensors()
    {
        using var scope = B.NewScope();
        var weights = B.FromArray(new[] { 1.0, -2.5, 3.25, 0.0, double.NaN, -0.0 }, [2, 3], Device.Cpu);
        var step = B.Scalar(7, DType.Int64, Device.Cpu);
        var mask = B.FromBytes([1, 0, 1], DType.Bool, [3], Device.Cpu);
        var half = B.FromBytes(BitConverter.GetBytes(Half.MaxValue).Concat(BitConverter.GetBytes((Half)(-0.5))).ToArray(), DType.Float16, [2], Device.Cpu);
        var value = new TorchDict
        {
            { "weights", weights },
            { "state", new TorchDict { { 0L, new TorchDict { { "step", step }, { "mask", mask } } } } },
            { "groups", new List<object?> { new TorchDict { { "lr", 0.001 }, { "betas", new TorchTuple(0.9, 0.999) }, { "half", half } } } },
            { "epoch", 3L },
            { "name", "run ✓" },
            { "none", null },
        };
        var path = TempFile();
        try
        {
            StateFile.Save(path, value);
            var loaded = (TorchDict)StateFile.Load(path, B)!;
            CollectionAssert.AreEqual(new object[] { "weights", "state", "groups", "epoch", "name", "none" }, loaded.Keys.ToArray());
            AssertSame(weights, loaded.Get<ITensor>("weights"));
            var state = loaded.Get<TorchDict>("state").Get<TorchDict>(0L);
            AssertSame(step, state.Get<ITensor>("step"));
            AssertSame(mask, state.Get<ITensor>("mask"));
            var group = (TorchDict)loaded.Get<List<object?>>("groups")[0]!;
            Assert.AreEqual(0.001, group.Get<double>("lr"));
            Assert.AreEqual(0.999, group.Get<TorchTuple>("betas").Get<double>(1));
            AssertSame(half, group.Get<ITensor>("half"));
            Assert.AreEqual(3L, loaded["epoch"]);
            Assert.AreEqual("run ✓", loaded["name"]);
            Assert.IsNull(loaded["none"]);
            Assert.AreSame(B, loaded.Get<ITensor>("weights").Backend, "tensors come back on the engine asked for");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertSame(ITensor expected, ITensor actual)
    {
        Assert.AreEqual(expected.DType, actual.DType);
        CollectionAssert.AreEqual(expected.Shape, actual.Shape);
        CollectionAssert.AreEqual(expected.ToBytes(), actual.ToBytes(), "bit-exact");
        Assert.IsFalse(actual.RequiresGrad);
    }

    [TestMethod]
    public void AModelsNamedTensorsSaveAsAnOrderedStateDict()
    {
        using var scope = B.NewScope();
        Torch.ManualSeed(5);
        using var net = new Sequential(new Linear(4, 3), new BatchNorm1d(3));
        IModel model = net;
        var named = model.NamedParameters().Concat(model.NamedBuffers()).ToList();
        var path = TempFile();
        try
        {
            StateFile.SaveStateDict(path, named);
            var sd = StateFile.LoadStateDict(path, B);
            CollectionAssert.AreEqual(named.Select(n => n.Name).ToArray(), sd.Keys.ToArray(), "order kept");
            foreach (var n in named) AssertSame(n.Tensor, sd[n.Name]);
            Assert.IsTrue(((TorchDict)StateFile.Load(path, B)!).IsOrderedDict, "written as collections.OrderedDict, as state_dict() is");
            Assert.IsTrue(named.First(n => n.Name == "0.weight").Tensor.RequiresGrad, "the model's parameters are untouched");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void TiedWeightsAreWrittenOnceAndLoadSharingMemory()
    {
        using var scope = B.NewScope();
        var embedding = B.FromArray(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), [3, 4], Device.Cpu);
        var bytes = StateFile.SaveToBytes(new TorchDict { { "encoder.weight", embedding }, { "decoder.weight", embedding } });
        Assert.HasCount(1, StorageRecords(bytes), "one storage for the tensor referenced twice");
        var sd = StateFile.LoadStateDict(bytes, B);
        Assert.AreNotSame(sd["encoder.weight"], sd["decoder.weight"], "each entry gets its own handle");
        Assert.IsTrue(GoldenValues.SharesMemory((Tensor)sd["encoder.weight"], (Tensor)sd["decoder.weight"]));
    }

    [TestMethod]
    public void ViewsShareOneStorageWrittenUpToTheLastElementUsed()
    {
        using var scope = Torch.NoGrad();
        using var tensors = TensorScope.Open();
        var w = Tensor.Arange(0, 1000, 1, DType.Float32).Reshape(100, 10);
        var bytes = StateFile.SaveToBytes(new TorchDict { { "first_rows", w.Narrow(0, 0, 2) }, { "first_rows_t", w.Narrow(0, 0, 2).T } });
        var records = StorageRecords(bytes);
        Assert.HasCount(1, records);
        Assert.AreEqual(20L * 4, records[0].Size, "a slice saves its storage up to its last element, not the whole tensor");

        bytes = StateFile.SaveToBytes(new TorchDict { { "w", w }, { "col", w.Select(1, 3) }, { "last", w.Narrow(0, 99, 1) } });
        records = StorageRecords(bytes);
        Assert.HasCount(1, records);
        Assert.AreEqual(1000L * 4, records[0].Size);
        var loaded = (TorchDict)StateFile.Load(bytes, B)!;
        var col = (Tensor)loaded.Get<ITensor>("col");
        Assert.IsTrue(GoldenValues.SharesMemory((Tensor)loaded.Get<ITensor>("w"), col));
        Assert.AreEqual(3L, col.StorageOffset);
        CollectionAssert.AreEqual(new long[] { 10 }, col.Strides);
        CollectionAssert.AreEqual(Enumerable.Range(0, 100).Select(i => i * 10f + 3).ToArray(), col.ToArray<float>());
    }

    [TestMethod]
    public void LoadedTensorsBelongToTheEnclosingScope()
    {
        var bytes = StateFile.SaveToBytes(new TorchDict { { "a", Floats(1, 2) }, { "b", Floats(3) } });
        var before = Tensor.LiveCount;
        using (B.NewScope())
        {
            var sd = StateFile.LoadStateDict(bytes, B);
            Assert.AreEqual(before + 2, Tensor.LiveCount, "two tensors, no temporaries left behind");
            Assert.AreEqual(3f, sd["b"].ToFloatArray()[0]);
        }
        Assert.AreEqual(before, Tensor.LiveCount, "the scope frees what was loaded in it");
    }

    [TestMethod]
    public void FileStreamAndBytesFormsWriteTheSameBytes()
    {
        using var scope = B.NewScope();
        var value = new TorchDict { { "x", Floats(1, 2, 3) }, { "n", 4L } };
        var bytes = StateFile.SaveToBytes(value);
        CollectionAssert.AreEqual(bytes, StateFile.SaveToBytes(value), "the same value gives the same bytes");
        var stream = new MemoryStream();
        stream.Write([9, 9]);
        StateFile.Save(stream, value);
        CollectionAssert.AreEqual(bytes, stream.ToArray()[2..], "written from the stream's position");
        stream.Position = 2;
        Assert.AreEqual(4L, ((TorchDict)StateFile.Load(stream, B)!)["n"]);
        var path = TempFile();
        try
        {
            StateFile.Save(path, value);
            CollectionAssert.AreEqual(bytes, File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void InvalidValuesNameTheirPathAndWriteNothing()
    {
        var disposed = Floats(1);
        disposed.Dispose();
        var path = TempFile();
        var e = Assert.ThrowsExactly<ArgumentException>(() => StateFile.Save(path, new TorchDict { { "model", new TorchDict { { "0.weight", disposed } } } }));
        StringAssert.Contains(e.Message, "root['model']['0.weight'] is a disposed tensor");
        Assert.IsFalse(File.Exists(path));

        using var scope = B.NewScope();
        e = Assert.ThrowsExactly<ArgumentException>(() => StateFile.SaveToBytes(new List<object?> { "ok", "bad \ud800" }));
        StringAssert.Contains(e.Message, "root[1]: the string is not valid UTF-16");
        e = Assert.ThrowsExactly<ArgumentException>(() => StateFile.SaveStateDict(path, [new("w", Floats(1)), new("w", Floats(2))]));
        StringAssert.Contains(e.Message, "'w' appears twice");
        Assert.IsFalse(File.Exists(path));
    }

    [TestMethod]
    public void LoadErrorsNameTheFileAndWhatWasFound()
    {
        var missing = TempFile();
        StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => StateFile.Load(missing, B)).Message, missing);
        Assert.ThrowsExactly<FileNotFoundException>(() => StateFile.LoadStateDict(missing, B));

        var path = GoldenValues.Fixture("nested.pt");
        var e = Assert.ThrowsExactly<TorchSerializationException>(() => StateFile.LoadStateDict(path, B));
        Assert.AreEqual(TorchSerializationError.UnsupportedContent, e.Error);
        Assert.AreEqual(path, e.FilePath);
        StringAssert.Contains(e.Message, "expected a state_dict");
        StringAssert.Contains(e.Message, "StateFile.Load");

        var garbage = Encoding.ASCII.GetBytes("not a zip");
        Assert.AreEqual(TorchSerializationError.Corrupt, Assert.ThrowsExactly<TorchSerializationException>(() => StateFile.Load(garbage, B)).Error);
    }
}
