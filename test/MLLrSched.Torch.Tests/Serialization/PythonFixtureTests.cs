using System.Text.Json;
using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Serialization;

namespace MLLrSched.Torch.Tests.Serialization;

/// <summary>Files written by Python's torch.save (tools/golden/serialization.py) load here as torch.load reads them.</summary>
[TestClass]
public class PythonFixtureTests
{
    public static IEnumerable<object[]> Fixtures()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(GoldenValues.Fixture("manifest.json")));
        return manifest.RootElement.GetProperty("fixtures").EnumerateArray().Select(f => new object[] { f.GetString()! }).ToList();
    }

    [TestMethod]
    public void ManifestRecordsTheTorchVersion()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(GoldenValues.Fixture("manifest.json")));
        Golden.NativeGolden.Set.AssertMadeByThisSeries(manifest.RootElement, "serialization/manifest.json");
        Assert.IsGreaterThanOrEqualTo(10, Fixtures().Count());
    }

    [TestMethod]
    [DynamicData(nameof(Fixtures))]
    public void LoadValueMatchesTorchLoad(string name)
    {
        var expected = GoldenValues.Expectations(name);
        var value = TorchFile.LoadValue(GoldenValues.Fixture(name + ".pt"));
        try
        {
            GoldenValues.AssertMatches(expected.GetProperty("value"), value);
            foreach (var group in GoldenValues.SharedGroups(expected))
            {
                var first = (Tensor)GoldenValues.Lookup(value, group[0])!;
                foreach (var other in group.Skip(1))
                {
                    var t = (Tensor)GoldenValues.Lookup(value, other)!;
                    Assert.IsTrue(GoldenValues.SharesMemory(first, t), $"{string.Join("/", other)} should share memory with {string.Join("/", group[0])}");
                }
            }
        }
        finally
        {
            GoldenValues.DisposeAll(value);
        }
    }

    [TestMethod]
    public void SequentialStateDictLoadsInFileOrder()
    {
        var sd = TorchFile.Load(GoldenValues.Fixture("sequential.pt"));
        try
        {
            CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, sd.Keys.ToArray());
            CollectionAssert.AreEqual(new long[] { 3, 4 }, sd["0.weight"].Shape);
            Assert.AreEqual(DType.Float32, sd["2.bias"].DType);
            Assert.IsFalse(sd["0.weight"].RequiresGrad);
        }
        finally
        {
            foreach (var t in sd.Values) t.Dispose();
        }
    }

    [TestMethod]
    public void BatchNormStateDictKeepsNumBatchesTrackedAsInt64()
    {
        var sd = TorchFile.Load(GoldenValues.Fixture("batchnorm.pt"));
        try
        {
            var n = sd["1.num_batches_tracked"];
            Assert.AreEqual(DType.Int64, n.DType);
            Assert.AreEqual(0, n.Dim);
            Assert.AreEqual(3L, n.ToInt64());
            CollectionAssert.Contains(sd.Keys.ToArray(), "1.running_var");
        }
        finally
        {
            foreach (var t in sd.Values) t.Dispose();
        }
    }

    [TestMethod]
    public void StateDictMetadataIsKeptAsAttributes()
    {
        var value = (TorchDict)TorchFile.LoadValue(GoldenValues.Fixture("sequential.pt"))!;
        try
        {
            Assert.IsTrue(value.IsOrderedDict);
            var metadata = value.Attributes!.Get<TorchDict>("_metadata");
            Assert.IsTrue(metadata.ContainsKey(""), "the root module's version entry");
            Assert.AreEqual(1L, metadata.Get<TorchDict>("0").Get<long>("version"));
        }
        finally
        {
            GoldenValues.DisposeAll(value);
        }
    }

    [TestMethod]
    public void ParametersKeepRequiresGrad()
    {
        var sd = TorchFile.Load(GoldenValues.Fixture("parameters.pt"));
        try
        {
            Assert.IsTrue(sd["weight"].RequiresGrad);
            Assert.IsTrue(sd["weight"].IsLeaf);
        }
        finally
        {
            foreach (var t in sd.Values) t.Dispose();
        }
    }

    [TestMethod]
    public void AdamStateDictHasIntKeysAndTupleBetas()
    {
        var value = (TorchDict)TorchFile.LoadValue(GoldenValues.Fixture("adam.pt"))!;
        try
        {
            var state = value.Get<TorchDict>("state");
            CollectionAssert.AreEqual(new object[] { 0L, 1L }, state.Keys.ToArray());
            var group = (TorchDict)value.Get<List<object?>>("param_groups")[0]!;
            var betas = group.Get<TorchTuple>("betas");
            Assert.AreEqual(0.9, betas.Get<double>(0));
            Assert.AreEqual(0.01, group.Get<double>("lr"));
            Assert.IsNull(group["foreach"]);
            Assert.AreEqual(DType.Float32, state.Get<TorchDict>(0L).Get<Tensor>("exp_avg").DType);
        }
        finally
        {
            GoldenValues.DisposeAll(value);
        }
    }

    [TestMethod]
    public void SharedStorageIsLoadedOnceAsViews()
    {
        var sd = TorchFile.Load(GoldenValues.Fixture("shared.pt"));
        try
        {
            Assert.IsTrue(GoldenValues.SharesMemory(sd["encoder.weight"], sd["decoder.weight"]));
            Assert.IsTrue(GoldenValues.SharesMemory(sd["encoder.weight"], sd["row1"]));
            Assert.IsFalse(GoldenValues.SharesMemory(sd["encoder.weight"], sd["other"]), "a separate storage must stay separate");
            Assert.AreEqual(4L, sd["row1"].StorageOffset);
        }
        finally
        {
            foreach (var t in sd.Values) t.Dispose();
        }
    }

    [TestMethod]
    public void LargeRecordsAreReadInChunks()
    {
        // The chunked path (for storages over 2 GiB) must give the same values; force it with tiny chunks.
        var expected = GoldenValues.Expectations("dtypes");
        var saved = TensorRebuilder.ChunkBytes;
        TensorRebuilder.ChunkBytes = 8;
        object? value = null;
        try
        {
            value = TorchFile.LoadValue(GoldenValues.Fixture("dtypes.pt"));
            GoldenValues.AssertMatches(expected.GetProperty("value"), value);
        }
        finally
        {
            TensorRebuilder.ChunkBytes = saved;
            GoldenValues.DisposeAll(value);
        }
    }

    [TestMethod]
    public void MapLocationPlacesTensorsOnTheRequestedDevice()
    {
        var path = GoldenValues.Fixture("sequential.pt");
        if (!Torch.Cuda.IsAvailable)
        {
            // Asking for a device that is absent is an error, as with torch.load(map_location="cuda").
            Assert.ThrowsExactly<TorchDeviceException>(() => TorchFile.Load(path, Device.Cuda(0)));
            var cpu = TorchFile.Load(path, Device.Cpu);
            foreach (var t in cpu.Values)
            {
                Assert.AreEqual(Device.Cpu, t.Device);
                t.Dispose();
            }
            return;
        }
        var sd = TorchFile.Load(path, Device.Cuda(0));
        foreach (var t in sd.Values)
        {
            Assert.IsTrue(t.Device.IsCuda);
            t.Dispose();
        }
    }
}
