using System.Text;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Serialization;

namespace MLLrSched.Torch.Tests.Serialization;

/// <summary>Everything outside the supported subset fails with a message that says what was found and what is supported.</summary>
[TestClass]
public class TorchFileErrorTests
{
    private static TorchSerializationException Fails(TorchSerializationError kind, byte[] file)
    {
        var e = Assert.ThrowsExactly<TorchSerializationException>(() => TorchFile.LoadValue(file));
        Assert.AreEqual(kind, e.Error, e.Message);
        return e;
    }

    // ------------------------------------------------------------------ files Python wrote

    [TestMethod]
    public void PickledModuleSaysSaveTheStateDict()
    {
        var path = GoldenValues.Fixture("unsupported_module.pt");
        var e = Assert.ThrowsExactly<TorchSerializationException>(() => TorchFile.Load(path));
        Assert.AreEqual(TorchSerializationError.UnsupportedContent, e.Error);
        StringAssert.Contains(e.Message, "torch.nn.modules.container.Sequential");
        StringAssert.Contains(e.Message, "model.state_dict()");
        StringAssert.Contains(e.Message, path, "the message names the file");
        Assert.AreEqual(path, e.FilePath);
    }

    [TestMethod]
    public void LegacyFormatIsNamed()
    {
        var e = Fails(TorchSerializationError.UnsupportedContent, File.ReadAllBytes(GoldenValues.Fixture("unsupported_legacy.pt")));
        StringAssert.Contains(e.Message, "legacy");
        StringAssert.Contains(e.Message, "_use_new_zipfile_serialization=False");
    }

    [TestMethod]
    public void ComplexTensorIsAnUnsupportedDType()
    {
        var e = Fails(TorchSerializationError.UnsupportedDType, File.ReadAllBytes(GoldenValues.Fixture("unsupported_complex.pt")));
        StringAssert.Contains(e.Message, "torch.ComplexFloatStorage");
        StringAssert.Contains(e.Message, "float32, float64, float16, bfloat16");
    }

    [TestMethod]
    public void TorchDTypeObjectIsNamed()
    {
        var e = Fails(TorchSerializationError.UnsupportedContent, File.ReadAllBytes(GoldenValues.Fixture("unsupported_dtype_object.pt")));
        StringAssert.Contains(e.Message, "torch.float32");
        StringAssert.Contains(e.Message, "str(dtype)");
    }

    [TestMethod]
    public void TorchScriptArchiveIsNamed()
    {
        var e = Fails(TorchSerializationError.UnsupportedContent, File.ReadAllBytes(GoldenValues.Fixture("unsupported_torchscript.pt")));
        StringAssert.Contains(e.Message, "TorchScript");
        StringAssert.Contains(e.Message, "torch.save(model.state_dict(), path)");
    }

    [TestMethod]
    public void LoadOfACheckpointPointsToLoadValue()
    {
        var e = Assert.ThrowsExactly<TorchSerializationException>(() => TorchFile.Load(GoldenValues.Fixture("nested.pt")));
        StringAssert.Contains(e.Message, "expected a state_dict");
        StringAssert.Contains(e.Message, "TorchFile.LoadValue");
    }

    // ------------------------------------------------------------------ not a file / not a zip

    [TestMethod]
    public void MissingFileIsNamed()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "model.pt");
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => TorchFile.Load(path));
        StringAssert.Contains(e.Message, path);
        Assert.AreEqual(path, e.FileName);
    }

    [TestMethod]
    public void EmptyFile() =>
        StringAssert.Contains(Fails(TorchSerializationError.Corrupt, []).Message, "not a PyTorch zip file, or truncated: the file is empty");

    [TestMethod]
    public void TextFileIsNotAZip() =>
        StringAssert.Contains(Fails(TorchSerializationError.Corrupt, Encoding.ASCII.GetBytes("hello, world")).Message,
            "not a PyTorch zip file, or truncated: the file starts with bytes");

    [TestMethod]
    public void ZipWithoutDataPkl() =>
        StringAssert.Contains(Fails(TorchSerializationError.Corrupt, ZipFixtures.Build(("archive/other.txt", [1, 2]))).Message,
            "no 'archive/data.pkl' record");

    [TestMethod]
    public void CrcMismatchIsDetected()
    {
        var bytes = File.ReadAllBytes(GoldenValues.Fixture("sequential.pt"));
        var records = ZipFixtures.Records(bytes);
        var data = records.First(r => r.Name.EndsWith("/data/0")).Data;
        // Find the record's bytes in the file and flip one bit in the middle of them.
        var at = bytes.AsSpan().IndexOf(data);
        Assert.IsGreaterThanOrEqualTo(0, at);
        bytes[at + data.Length / 2] ^= 0x10;
        StringAssert.Contains(Fails(TorchSerializationError.Corrupt, bytes).Message, "CRC-32");
    }

    // ------------------------------------------------------------------ hand-made pickles

    [TestMethod]
    public void ArbitraryClassIsNamed()
    {
        var e = Fails(TorchSerializationError.UnsupportedContent, ZipFixtures.WithPickle(new PickleBuilder().Global("__main__", "Net").Op(')').Op('R').Stop()));
        StringAssert.Contains(e.Message, "'__main__.Net'");
        StringAssert.Contains(e.Message, "state_dict()");
    }

    [TestMethod]
    public void NumpyValueIsNamed()
    {
        var e = Fails(TorchSerializationError.UnsupportedContent, ZipFixtures.WithPickle(new PickleBuilder().Global("numpy.core.multiarray", "scalar").Stop()));
        StringAssert.Contains(e.Message, "numpy");
        StringAssert.Contains(e.Message, "float(x)");
    }

    [TestMethod]
    public void ReferenceCycleIsRefused()
    {
        // L = []; L.append(L)
        var pickle = new PickleBuilder().Op(']').Op('q').Byte(0).Op('h').Byte(0).Op('a').Stop();
        StringAssert.Contains(Fails(TorchSerializationError.UnsupportedContent, ZipFixtures.WithPickle(pickle)).Message, "reference cycle");
    }

    [TestMethod]
    public void DeepNestingIsRefused()
    {
        var b = new PickleBuilder();
        for (var i = 0; i < 2000; i++) b.Op('(');
        for (var i = 0; i < 2000; i++) b.Op('l');
        StringAssert.Contains(Fails(TorchSerializationError.UnsupportedContent, ZipFixtures.WithPickle(b.Stop())).Message, "nested more than");
    }

    [TestMethod]
    public void IntegerBeyond64BitsIsRefused()
    {
        var pickle = new PickleBuilder().Op((char)0x8a).Byte(9).Bytes([0, 0, 0, 0, 0, 0, 0, 0x80, 0]).Stop(); // 2**63
        StringAssert.Contains(Fails(TorchSerializationError.UnsupportedContent, ZipFixtures.WithPickle(pickle)).Message, "64-bit");
    }

    [TestMethod]
    public void BytesValueIsRefused()
    {
        var pickle = new PickleBuilder().Op('C').Byte(2).Bytes([1, 2]).Stop();
        StringAssert.Contains(Fails(TorchSerializationError.UnsupportedContent, ZipFixtures.WithPickle(pickle)).Message, "bytes");
    }

    [TestMethod]
    public void InvalidOpcodeAndMissingStopAreCorrupt()
    {
        StringAssert.Contains(Fails(TorchSerializationError.Corrupt, ZipFixtures.WithPickle(new PickleBuilder().Byte(0xff).Stop())).Message, "invalid pickle opcode 0xFF");
        StringAssert.Contains(Fails(TorchSerializationError.Corrupt, ZipFixtures.WithPickle(new PickleBuilder().Op('N').Build())).Message, "ends before STOP");
    }

    [TestMethod]
    public void TensorOutsideItsStorageIsCorrupt()
    {
        // A float32 storage of 2 elements viewed as size (3,).
        var pickle = new PickleBuilder().Tensor("0", 2, size: [3], stride: [1]).Stop();
        var e = Fails(TorchSerializationError.Corrupt, ZipFixtures.WithPickle(pickle, ("0", new byte[8])));
        StringAssert.Contains(e.Message, "reaches outside its storage");
    }

    [TestMethod]
    public void StorageRecordOfTheWrongSizeIsCorrupt()
    {
        var pickle = new PickleBuilder().Tensor("0", 2, size: [2], stride: [1]).Stop();
        StringAssert.Contains(Fails(TorchSerializationError.Corrupt, ZipFixtures.WithPickle(pickle, ("0", new byte[12]))).Message, "holds 12 bytes");
        StringAssert.Contains(Fails(TorchSerializationError.Corrupt, ZipFixtures.WithPickle(pickle)).Message, "is missing");
    }

    [TestMethod]
    public void HandMadeTensorLoads()
    {
        // The positive control for the two tests above: the same pickle with a fitting record.
        var pickle = new PickleBuilder().Tensor("0", 2, size: [2], stride: [1]).Stop();
        var data = new byte[8];
        BitConverter.TryWriteBytes(data.AsSpan(0), 1.5f);
        BitConverter.TryWriteBytes(data.AsSpan(4), -2f);
        using var t = (Tensor)TorchFile.LoadValue(ZipFixtures.WithPickle(pickle, ("0", data)))!;
        CollectionAssert.AreEqual(new[] { 1.5f, -2f }, t.ToArray<float>());
    }

    // ------------------------------------------------------------------ invalid values to save

    [TestMethod]
    public void SavingUnsupportedValuesNamesThePath()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => TorchFile.SaveValueToBytes(new TorchDict { { "when", new List<object?> { DateTime.Now } } }));
        StringAssert.Contains(e.Message, "root['when'][0] is a DateTime");

        var cyclic = new List<object?>();
        cyclic.Add(cyclic);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => TorchFile.SaveValueToBytes(cyclic)).Message, "reference cycle");

        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            TorchFile.SaveValueToBytes(new Dictionary<object, object?> { ["a"] = 1, [2L] = 2 })).Message, "mixes string and integer keys");

        var disposed = Tensor.Zeros([2]);
        disposed.Dispose();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() =>
            TorchFile.Save("unused.pt", new Dictionary<string, Tensor> { ["w"] = disposed })).Message, "root['w'] is a disposed tensor");
        Assert.IsFalse(File.Exists("unused.pt"), "nothing is written when the value is invalid");

        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => TorchFile.SaveValueToBytes("a\0b")).Message, "NUL");
    }
}

/// <summary>Writes pickle opcodes by hand for the reader's error tests.</summary>
internal sealed class PickleBuilder
{
    private readonly List<byte> _bytes = [0x80, 2];

    public PickleBuilder Op(char op) => Byte((byte)op);
    public PickleBuilder Byte(byte b) { _bytes.Add(b); return this; }
    public PickleBuilder Bytes(byte[] b) { _bytes.AddRange(b); return this; }

    public PickleBuilder Global(string module, string name) => Op('c').Bytes(Encoding.UTF8.GetBytes($"{module}\n{name}\n"));

    public PickleBuilder Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        Op('X').Bytes(BitConverter.GetBytes(b.Length));
        return Bytes(b);
    }

    public PickleBuilder Int(long v) => Op('J').Bytes(BitConverter.GetBytes((int)v));

    private PickleBuilder Longs(long[] values)
    {
        Op('(');
        foreach (var v in values) Int(v);
        return Op('t');
    }

    /// <summary>_rebuild_tensor_v2(('storage', torch.FloatStorage, key, 'cpu', numel), 0, size, stride, False, OrderedDict())</summary>
    public PickleBuilder Tensor(string key, long numel, long[] size, long[] stride) =>
        Global("torch._utils", "_rebuild_tensor_v2")
            .Op('(')
            .Op('(').Str("storage").Global("torch", "FloatStorage").Str(key).Str("cpu").Int(numel).Op('t').Op('Q')
            .Int(0).Longs(size).Longs(stride).Byte(0x89).Global("collections", "OrderedDict").Op(')').Op('R')
            .Op('t').Op('R');

    public byte[] Stop() => Op('.').Build();
    public byte[] Build() => _bytes.ToArray();
}
