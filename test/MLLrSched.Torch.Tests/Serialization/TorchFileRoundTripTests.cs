using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Serialization;

namespace MLLrSched.Torch.Tests.Serialization;

/// <summary>Save here, load here: the API's forms agree and keep order, dtypes, layout and sharing.</summary>
[TestClass]
public class TorchFileRoundTripTests
{
    [TestMethod]
    public void StateDictRoundTripsThroughFileBytesAndStream()
    {
        using var scope = TensorScope.Open();
        Torch.ManualSeed(3);
        var sd = new OrderedDictionary<string, Tensor>
        {
            ["z.last_first"] = Tensor.Randn([2, 3]),
            ["a.weight"] = Tensor.Randn([4], dtype: DType.Float64),
            ["m.count"] = Tensor.Scalar(9, DType.Int64),
            ["mask"] = Tensor.FromArray(new[] { true, false }),
        };
        var path = Path.Combine(Path.GetTempPath(), $"mllrsched-{Guid.NewGuid():N}.pt");
        try
        {
            TorchFile.Save(path, sd);
            var bytes = TorchFile.SaveToBytes(sd);
            var stream = new MemoryStream();
            stream.Write([1, 2, 3]); // the reader must start at the stream's position
            TorchFile.Save(stream, sd);
            stream.Position = 3;

            foreach (var loaded in new[] { TorchFile.Load(path), TorchFile.Load(bytes), TorchFile.Load(stream) })
            {
                CollectionAssert.AreEqual(sd.Keys.ToArray(), loaded.Keys.ToArray(), "order is kept");
                foreach (var (name, t) in sd)
                {
                    Assert.AreEqual(t.DType, loaded[name].DType, name);
                    CollectionAssert.AreEqual(t.Shape, loaded[name].Shape, name);
                    Assert.IsTrue(t.Equal(loaded[name]), name);
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ViewsAndTiedWeightsStayShared()
    {
        using var scope = TensorScope.Open();
        var w = Tensor.Arange(0, 12, 1, DType.Float32).Reshape(3, 4);
        var value = new TorchDict
        {
            { "w", w }, { "tied", w }, { "t", w.T }, { "col", w.Select(1, 2) }, { "other", Tensor.Ones([2]) },
        };
        var loaded = (TorchDict)TorchFile.LoadValue(TorchFile.SaveValueToBytes(value))!;
        var lw = loaded.Get<Tensor>("w");
        Assert.IsTrue(GoldenValues.SharesMemory(lw, loaded.Get<Tensor>("tied")));
        Assert.IsTrue(GoldenValues.SharesMemory(lw, loaded.Get<Tensor>("t")));
        Assert.IsTrue(GoldenValues.SharesMemory(lw, loaded.Get<Tensor>("col")));
        Assert.IsFalse(GoldenValues.SharesMemory(lw, loaded.Get<Tensor>("other")));
        Assert.AreNotSame(lw, loaded.Get<Tensor>("tied"), "each entry gets its own handle, so disposing one leaves the other usable");
        CollectionAssert.AreEqual(new long[] { 1, 4 }, loaded.Get<Tensor>("t").Strides);
        Assert.AreEqual(2L, loaded.Get<Tensor>("col").StorageOffset);
        CollectionAssert.AreEqual(new float[] { 2, 6, 10 }, loaded.Get<Tensor>("col").ToArray<float>());
    }

    [TestMethod]
    public void SavedTensorsAreDetached()
    {
        using var scope = TensorScope.Open();
        var p = Tensor.Ones([2]).RequiresGrad_();
        using var loaded = TorchFile.Load(TorchFile.SaveToBytes(new Dictionary<string, Tensor> { ["p"] = p }))["p"];
        Assert.IsFalse(loaded.RequiresGrad);
        Assert.IsTrue(p.RequiresGrad, "the caller's tensor is untouched");
    }

    [TestMethod]
    public void NestedValuesKeepTheirTypes()
    {
        using var scope = TensorScope.Open();
        var value = new TorchDict
        {
            { 3L, "int key" },
            { 1, new TorchTuple(1L, 2.5, "s", null, true) },
        };
        var list = (List<object?>)TorchFile.LoadValue(TorchFile.SaveValueToBytes(new List<object?> { value, 4.0, 7L }))!;
        var d = (TorchDict)list[0]!;
        CollectionAssert.AreEqual(new object[] { 3L, 1L }, d.Keys.ToArray());
        Assert.AreEqual("int key", d[3]);
        var t = d.Get<TorchTuple>(1);
        Assert.AreEqual(1L, t[0]);
        Assert.AreEqual(2.5, t[1]);
        Assert.AreEqual("s", t[2]);
        Assert.IsNull(t[3]);
        Assert.AreEqual(true, t[4]);
        Assert.AreEqual(4.0, list[1]);
        Assert.AreEqual(7L, list[2]);
    }

    [TestMethod]
    public void CheckpointNestsAStateDictAndGivesItBack()
    {
        using var scope = TensorScope.Open();
        var sd = new OrderedDictionary<string, Tensor> { ["b"] = Tensor.Ones([2]), ["a"] = Tensor.Zeros([1]) };
        var loaded = (TorchDict)TorchFile.LoadValue(TorchFile.SaveValueToBytes(new TorchDict { { "model", sd }, { "epoch", 3L } }))!;
        var back = loaded.Get<TorchDict>("model").ToStateDict<Tensor>();
        CollectionAssert.AreEqual(new[] { "b", "a" }, back.Keys.ToArray());
        Assert.IsTrue(back["b"].Equal(sd["b"]));
        var e = Assert.ThrowsExactly<InvalidCastException>(() => loaded.ToStateDict());
        StringAssert.Contains(e.Message, "entry 'model' is dict with 2 entries, not a tensor");
    }

    [TestMethod]
    public void SaveReplacesAnExistingFileAndLeavesNoTemporaries()
    {
        using var scope = TensorScope.Open();
        var dir = Directory.CreateTempSubdirectory("mllrsched-").FullName;
        try
        {
            var path = Path.Combine(dir, "model.pt");
            File.WriteAllText(path, "old contents");
            TorchFile.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones([3]) });
            CollectionAssert.AreEqual(new[] { 1f, 1f, 1f }, TorchFile.Load(path)["w"].ToArray<float>());
            Assert.ThrowsExactly<ArgumentException>(() => TorchFile.SaveValue(path, new List<object?> { new object() }));
            Assert.IsTrue(TorchFile.Load(path).ContainsKey("w"), "a failed save leaves the previous file intact");
            CollectionAssert.AreEqual(new[] { "model.pt" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void TypedAccessWidensLikePythonAndNamesMismatches()
    {
        var d = new TorchDict { { "lr", 1L }, { "name", "x" } };
        Assert.AreEqual(1.0, d.Get<double>("lr"));
        var e = Assert.ThrowsExactly<InvalidCastException>(() => d.Get<long>("name"));
        StringAssert.Contains(e.Message, "['name']: expected int, found str 'x'");
        var k = Assert.ThrowsExactly<KeyNotFoundException>(() => d.Get<long>("missing"));
        StringAssert.Contains(k.Message, "Keys: 'lr', 'name'");
    }
}
