using System.Buffers.Binary;
using System.Text;
using MLLrSched.Backend.Persistence;
using MLLrSched.Torch.Tests.Serialization;

namespace MLLrSched.Torch.Tests.Persistence;

/// <summary>A damaged zip directory that claims more bytes than the file can hold fails as damage, before any memory
/// is allocated for the claim.</summary>
[TestClass]
public class StateFileDamageTests
{
    /// <summary>A float32 tensor of <paramref name="numel"/> elements over 8 stored bytes, with the directory's
    /// uncompressed size of its record patched to match the claim.</summary>
    private static byte[] Claiming(long numel)
    {
        var pickle = new PickleBuilder().Tensor("0", numel, size: [numel], stride: [1]).Stop();
        var file = ZipFixtures.WithPickle(pickle, ("0", new byte[8]));
        var name = Encoding.ASCII.GetBytes("archive/data/0");
        for (var at = 0; at < file.Length - 4; at++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at)) != 0x02014b50) continue; // central directory header
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 28));
            if (!file.AsSpan(at + 46, nameLength).SequenceEqual(name)) continue;
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(at + 24), (uint)(numel * 4));
            return file;
        }
        throw new InvalidOperationException("no directory entry for archive/data/0");
    }

    [TestMethod]
    public void ARecordClaimingGigabytesFromBytesIsCorrupt()
    {
        var e = Assert.ThrowsExactly<TorchSerializationException>(() => StateFile.Load(Claiming(0x3FFF_FFF0), NativeBackend.Instance));
        Assert.AreEqual(TorchSerializationError.Corrupt, e.Error, e.Message);
        StringAssert.Contains(e.Message, "claims 4294967232 bytes from");
    }
}
