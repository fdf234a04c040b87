using System.Buffers.Binary;
using System.Text;

namespace MLLrSched.Torch.Tests.Persistence;

/// <summary>Reads a zip file's directory by hand, to check the layout details other readers gloss over (where each
/// record's data starts, its extra fields, the ZIP64 records).</summary>
internal static class ZipLayout
{
    public sealed record Record(string Name, long HeaderOffset, long DataOffset, long Size, uint Crc, int Method, int Flags,
        byte[] LocalExtra, bool CentralZip64);

    public sealed record Layout(List<Record> Records, bool HasZip64End);

    public static Layout Read(byte[] file)
    {
        var f = file.AsSpan();
        var end = file.Length - 22;
        Assert.AreEqual(0x06054b50u, BinaryPrimitives.ReadUInt32LittleEndian(f[end..]), "end of central directory (no comment)");
        long count = BinaryPrimitives.ReadUInt16LittleEndian(f[(end + 10)..]);
        long directory = BinaryPrimitives.ReadUInt32LittleEndian(f[(end + 16)..]);
        var zip64 = end >= 20 && BinaryPrimitives.ReadUInt32LittleEndian(f[(end - 20)..]) == 0x07064b50;
        if (zip64)
        {
            var record = (int)BinaryPrimitives.ReadUInt64LittleEndian(f[(end - 20 + 8)..]);
            Assert.AreEqual(0x06064b50u, BinaryPrimitives.ReadUInt32LittleEndian(f[record..]), "ZIP64 end record");
            count = (long)BinaryPrimitives.ReadUInt64LittleEndian(f[(record + 32)..]);
            directory = (long)BinaryPrimitives.ReadUInt64LittleEndian(f[(record + 48)..]);
        }
        var records = new List<Record>();
        var at = (int)directory;
        for (var i = 0; i < count; i++)
        {
            Assert.AreEqual(0x02014b50u, BinaryPrimitives.ReadUInt32LittleEndian(f[at..]), "central directory header");
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(f[(at + 8)..]);
            var method = BinaryPrimitives.ReadUInt16LittleEndian(f[(at + 10)..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(f[(at + 16)..]);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(f[(at + 24)..]);
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(f[(at + 28)..]);
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(f[(at + 30)..]);
            var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(f[(at + 32)..]);
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(f[(at + 42)..]);
            var name = Encoding.UTF8.GetString(f.Slice(at + 46, nameLength));
            var extra = f.Slice(at + 46 + nameLength, extraLength);
            var centralZip64 = false;
            if (extra.Length >= 4 && BinaryPrimitives.ReadUInt16LittleEndian(extra) == 1)
            {
                centralZip64 = true;
                var k = 4;
                if (size == uint.MaxValue)
                {
                    size = (long)BinaryPrimitives.ReadUInt64LittleEndian(extra[k..]);
                    k += 16; // uncompressed, then compressed
                }
                if (offset == uint.MaxValue) offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(extra[k..]);
            }
            var local = (int)offset;
            Assert.AreEqual(0x04034b50u, BinaryPrimitives.ReadUInt32LittleEndian(f[local..]), $"local header of {name}");
            var localName = BinaryPrimitives.ReadUInt16LittleEndian(f[(local + 26)..]);
            var localExtra = BinaryPrimitives.ReadUInt16LittleEndian(f[(local + 28)..]);
            records.Add(new Record(name, offset, offset + 30 + localName + localExtra, size, crc, method, flags,
                f.Slice(local + 30 + localName, localExtra).ToArray(), centralZip64));
            at += 46 + nameLength + extraLength + commentLength;
        }
        return new Layout(records, zip64);
    }

    /// <summary>The bytes of a record.</summary>
    public static byte[] Data(byte[] file, Record r) => file.AsSpan((int)r.DataOffset, (int)r.Size).ToArray();
}
