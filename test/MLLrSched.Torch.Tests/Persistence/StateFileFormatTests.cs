using System.IO.Hashing;
using System.Text;
using MLLrSched.Backend;
using MLLrSched.Backend.Persistence;

namespace MLLrSched.Torch.Tests.Persistence;

/// <summary>The container and pickle details PyTorch's readers rely on, and the large-file paths (pieces, ZIP64)
/// reached with small files by lowering their thresholds.</summary>
[TestClass]
public class StateFileFormatTests
{
    private static TorchDict Sample()
    {
        var w = Tensor.Arange(0, 30, 1, DType.Float32).Reshape(5, 6);
        return new TorchDict
        {
            { "w", w }, { "w_t", w.T }, { "row", w.Select(0, 3) },
            { "steps", Tensor.FromArray(new[] { 1L, 2L, 3L }) },
            { "name", "sample" }, { "sizes", new List<object?> { 1L, 300L, 70_000L, -5L, 1L << 40, long.MinValue } },
        };
    }

    [TestMethod]
    public void RecordsAreStoredAlignedAndInTorchSavesOrder()
    {
        using var scope = TensorScope.Open();
        var bytes = StateFile.SaveToBytes(Sample());
        var layout = ZipLayout.Read(bytes);
        CollectionAssert.AreEqual(
            new[] { "archive/data.pkl", "archive/byteorder", "archive/data/0", "archive/data/1", "archive/version" },
            layout.Records.Select(r => r.Name).ToArray());
        Assert.IsFalse(layout.HasZip64End, "a small file has no ZIP64 records");
        foreach (var r in layout.Records)
        {
            Assert.AreEqual(0, r.Method, $"{r.Name} is stored, not compressed");
            Assert.AreEqual(0, r.DataOffset % 64, $"{r.Name}'s data starts on a 64-byte boundary (PyTorch's kFieldAlignment)");
            Assert.AreEqual("FB", Encoding.ASCII.GetString(r.LocalExtra, 0, 2), $"{r.Name} is padded with PyTorch's FB extra field");
            Assert.AreEqual(0x0808, r.Flags, $"{r.Name}: sizes in a data descriptor, UTF-8 name");
            Assert.AreEqual(Crc32.HashToUInt32(ZipLayout.Data(bytes, r)), r.Crc, $"{r.Name}'s CRC-32");
        }
        Assert.AreEqual("little", Encoding.ASCII.GetString(ZipLayout.Data(bytes, layout.Records[1])));
        Assert.AreEqual("3\n", Encoding.ASCII.GetString(ZipLayout.Data(bytes, layout.Records[^1])));
    }

    [TestMethod]
    public void PickleIsProtocol2WithTorchSavesGlobals()
    {
        using var scope = TensorScope.Open();
        var bytes = StateFile.SaveToBytes(new TorchDict { IsOrderedDict = true, ["w"] = Tensor.Ones([2, 3]) });
        var pickle = ZipLayout.Data(bytes, ZipLayout.Read(bytes).Records[0]);
        CollectionAssert.AreEqual(new byte[] { 0x80, 2 }, pickle[..2], "PROTO 2, as torch.save writes");
        Assert.AreEqual((byte)'.', pickle[^1]);
        var text = Encoding.Latin1.GetString(pickle);
        StringAssert.StartsWith(text[2..], "ccollections\nOrderedDict\n", "a state_dict is an OrderedDict");
        StringAssert.Contains(text, "ctorch._utils\n_rebuild_tensor_v2\n");
        StringAssert.Contains(text, "ctorch\nFloatStorage\n");
        Assert.AreEqual(1, text.Split("\nOrderedDict\n").Length - 1, "the global is written once, then recalled from the memo (for the hooks)");
    }

    [TestMethod]
    public void ChunkedPathsWriteTheSameFileAndReadTheSameValues()
    {
        using var scope = TensorScope.Open();
        var value = Sample();
        var plain = NoSharingBackend.Native;
        value["hidden"] = ForwardingTensor.Wrap(Tensor.Arange(0, 1000, 1, DType.Float64).Reshape(10, 100).T, plain);
        var whole = StateFile.SaveToBytes(value);
        var (chunk, piece, perCall) = (ArchiveWriter.ChunkBytes, ArchiveWriter.PieceBytes, TensorRebuilder.MaxBytesPerCall);
        try
        {
            ArchiveWriter.ChunkBytes = 16;      // shared storages copied 16 bytes at a time
            ArchiveWriter.PieceBytes = 40;      // other tensors fetched 40 bytes at a time
            TensorRebuilder.MaxBytesPerCall = 24; // tensors assembled from 24-byte pieces
            CollectionAssert.AreEqual(whole, StateFile.SaveToBytes(value), "chunking does not change the file");
            foreach (var backend in new IBackend[] { NativeBackend.Instance, plain })
            {
                var loaded = (TorchDict)StateFile.Load(whole, backend)!;
                foreach (var key in new[] { "w", "w_t", "row", "steps", "hidden" })
                    CollectionAssert.AreEqual(((ITensor)value[key]!).ToBytes(), loaded.Get<ITensor>(key).ToBytes(), $"{key} on {backend.Name}");
            }
        }
        finally
        {
            (ArchiveWriter.ChunkBytes, ArchiveWriter.PieceBytes, TensorRebuilder.MaxBytesPerCall) = (chunk, piece, perCall);
        }
    }

    [TestMethod]
    public void Zip64FormsReadBack()
    {
        using var scope = TensorScope.Open();
        var value = Sample();
        var saved = ZipWriter.Zip64Threshold;
        byte[] bytes;
        try
        {
            ZipWriter.Zip64Threshold = 0; // every size and offset "overflows"
            bytes = StateFile.SaveToBytes(value);
        }
        finally
        {
            ZipWriter.Zip64Threshold = saved;
        }
        var layout = ZipLayout.Read(bytes);
        Assert.IsTrue(layout.HasZip64End);
        Assert.IsTrue(layout.Records.All(r => r.CentralZip64));
        Assert.IsTrue(layout.Records.All(r => r.DataOffset % 64 == 0), "alignment counts the ZIP64 field");
        var loaded = (TorchDict)StateFile.Load(bytes, NativeBackend.Instance)!;
        CollectionAssert.AreEqual(((ITensor)value["w_t"]!).ToBytes(), loaded.Get<ITensor>("w_t").ToBytes());
        CollectionAssert.AreEqual((List<object?>)value["sizes"]!, loaded.Get<List<object?>>("sizes"));
    }

    [TestMethod]
    public void StridedGatherMatchesAsStrided()
    {
        using var scope = TensorScope.Open();
        var random = new Random(17);
        var storage = Tensor.Arange(0, 500, 1, DType.Int16);
        var bytes = storage.ToBytes();
        for (var i = 0; i < 300; i++)
        {
            var dims = random.Next(0, 5);
            var size = Enumerable.Range(0, dims).Select(_ => (long)random.Next(0, 5)).ToArray();
            var stride = Enumerable.Range(0, dims).Select(_ => (long)random.Next(0, 7)).ToArray(); // 0: expanded
            var last = size.Select((s, d) => s == 0 ? 0 : (s - 1) * stride[d]).Sum();
            var offset = (long)random.Next(0, (int)(500 - last));
            var expected = storage.AsStrided(size, stride, offset).Contiguous().ToBytes();
            var actual = new byte[expected.Length];
            unsafe
            {
                fixed (byte* s = bytes)
                fixed (byte* d = actual)
                    StridedGather.Copy(s, 2, offset, size, stride, d);
            }
            CollectionAssert.AreEqual(expected, actual, $"size [{string.Join(", ", size)}] stride [{string.Join(", ", stride)}] offset {offset}");
        }
    }
}
