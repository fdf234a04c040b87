using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace MLLrSched.Backend.Persistence;

/// <summary>
/// Writes the zip container the way PyTorch's <c>PyTorchStreamWriter</c> does: records STORED (uncompressed), each
/// record's data aligned to 64 bytes from the start of the file by an <c>FB</c> padding extra field (so a reader can
/// map tensor data straight from the file), sizes and CRC-32 in a data descriptor after the data (so a record streams
/// out in one pass, to any stream), and ZIP64 fields once a size or offset reaches 4 GiB.
/// </summary>
/// <remarks>Offsets count the bytes written through this writer, so the output stream need not be seekable nor
/// start at position 0. Entries carry a fixed timestamp (1980-01-01), which makes equal values give equal files.</remarks>
internal sealed class ZipWriter
{
    /// <summary>PyTorch's <c>kFieldAlignment</c>.</summary>
    public const int Alignment = 64;

    /// <summary>Sizes and offsets from this value on use ZIP64 fields (4 GiB − 1, where the 32-bit fields saturate).
    /// Tests lower it to exercise the ZIP64 forms with small files.</summary>
    internal static long Zip64Threshold = uint.MaxValue;

    private const ushort Flags = 0x0808; // bit 3: sizes in a data descriptor; bit 11: UTF-8 names
    private const ushort DosTime = 0;
    private const ushort DosDate = (1 << 5) | 1; // 1980-01-01

    private readonly Stream _out;
    private readonly List<Entry> _entries = new();
    private long _position;
    private Record? _open;

    private sealed record Entry(byte[] Name, long Offset, long Size, uint Crc);

    public ZipWriter(Stream output) => _out = output;

    /// <summary>Starts record <paramref name="name"/> of exactly <paramref name="size"/> bytes; write them through the
    /// returned record, then <see cref="Record.Finish"/> it.</summary>
    public Record Begin(string name, long size)
    {
        if (_open != null) throw new InvalidOperationException($"Record '{_open.Name}' is still open.");
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var offset = _position;
        var bigSize = size >= Zip64Threshold;
        var bigOffset = offset >= Zip64Threshold;

        // ZIP64 extra field (as miniz writes it for PyTorch): the sizes when they overflow, then the offset.
        var zip64 = new List<long>();
        if (bigSize) { zip64.Add(size); zip64.Add(size); }
        if (bigOffset) zip64.Add(offset);
        var zip64Length = zip64.Count == 0 ? 0 : 4 + 8 * zip64.Count;

        // The data starts after the header, the name, the ZIP64 field and the FB field's own 4-byte header.
        var unpadded = offset + 30 + nameBytes.Length + zip64Length + 4;
        var padding = (int)((Alignment - unpadded % Alignment) % Alignment);

        var header = new byte[30 + nameBytes.Length + zip64Length + 4 + padding];
        var h = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], VersionNeeded(zip64Length > 0));
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(h[8..], 0); // STORED
        BinaryPrimitives.WriteUInt16LittleEndian(h[10..], DosTime);
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], DosDate);
        // CRC and sizes follow the data (data descriptor); ZIP64 sizes are marked by 0xFFFFFFFF.
        BinaryPrimitives.WriteUInt32LittleEndian(h[14..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[18..], bigSize ? uint.MaxValue : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[22..], bigSize ? uint.MaxValue : 0);
        BinaryPrimitives.WriteUInt16LittleEndian(h[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[28..], (ushort)(zip64Length + 4 + padding));
        nameBytes.CopyTo(h[30..]);
        var at = 30 + nameBytes.Length;
        if (zip64Length > 0)
        {
            WriteZip64Field(h[at..], zip64);
            at += zip64Length;
        }
        h[at] = (byte)'F';
        h[at + 1] = (byte)'B';
        BinaryPrimitives.WriteUInt16LittleEndian(h[(at + 2)..], (ushort)padding);
        h.Slice(at + 4, padding).Fill((byte)'Z');
        WriteRaw(header);
        return _open = new Record(this, name, nameBytes, offset, size);
    }

    /// <summary>Writes the central directory and the end records; the writer is done after this.</summary>
    public void Finish()
    {
        if (_open != null) throw new InvalidOperationException($"Record '{_open.Name}' is still open.");
        var directoryOffset = _position;
        foreach (var e in _entries) WriteRaw(CentralHeader(e));
        var directorySize = _position - directoryOffset;
        var zip64 = _entries.Count >= 0xFFFF || directoryOffset >= Zip64Threshold || directorySize >= Zip64Threshold;
        if (zip64)
        {
            var record = new byte[56 + 20];
            var r = record.AsSpan();
            BinaryPrimitives.WriteUInt32LittleEndian(r, 0x06064b50); // ZIP64 end of central directory
            BinaryPrimitives.WriteUInt64LittleEndian(r[4..], 44);
            BinaryPrimitives.WriteUInt16LittleEndian(r[12..], 45);
            BinaryPrimitives.WriteUInt16LittleEndian(r[14..], 45);
            BinaryPrimitives.WriteUInt64LittleEndian(r[24..], (ulong)_entries.Count);
            BinaryPrimitives.WriteUInt64LittleEndian(r[32..], (ulong)_entries.Count);
            BinaryPrimitives.WriteUInt64LittleEndian(r[40..], (ulong)directorySize);
            BinaryPrimitives.WriteUInt64LittleEndian(r[48..], (ulong)directoryOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(r[56..], 0x07064b50); // its locator
            BinaryPrimitives.WriteUInt64LittleEndian(r[64..], (ulong)(_position));
            BinaryPrimitives.WriteUInt32LittleEndian(r[72..], 1);
            WriteRaw(record);
        }
        var end = new byte[22];
        var s = end.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, 0x06054b50);
        var count = zip64 ? (ushort)0xFFFF : (ushort)_entries.Count;
        BinaryPrimitives.WriteUInt16LittleEndian(s[8..], count);
        BinaryPrimitives.WriteUInt16LittleEndian(s[10..], count);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], zip64 ? uint.MaxValue : (uint)directorySize);
        BinaryPrimitives.WriteUInt32LittleEndian(s[16..], zip64 ? uint.MaxValue : (uint)directoryOffset);
        WriteRaw(end);
    }

    private static byte[] CentralHeader(Entry e)
    {
        var bigSize = e.Size >= Zip64Threshold;
        var bigOffset = e.Offset >= Zip64Threshold;
        var zip64 = new List<long>();
        if (bigSize) { zip64.Add(e.Size); zip64.Add(e.Size); }
        if (bigOffset) zip64.Add(e.Offset);
        var zip64Length = zip64.Count == 0 ? 0 : 4 + 8 * zip64.Count;
        var header = new byte[46 + e.Name.Length + zip64Length];
        var h = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0x02014b50);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], VersionNeeded(zip64Length > 0)); // made by (MS-DOS attributes)
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], VersionNeeded(zip64Length > 0));
        BinaryPrimitives.WriteUInt16LittleEndian(h[8..], Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(h[10..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], DosTime);
        BinaryPrimitives.WriteUInt16LittleEndian(h[14..], DosDate);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], e.Crc);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], bigSize ? uint.MaxValue : (uint)e.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], bigSize ? uint.MaxValue : (uint)e.Size);
        BinaryPrimitives.WriteUInt16LittleEndian(h[28..], (ushort)e.Name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[30..], (ushort)zip64Length);
        // comment length, disk, internal and external attributes: 0
        BinaryPrimitives.WriteUInt32LittleEndian(h[42..], bigOffset ? uint.MaxValue : (uint)e.Offset);
        e.Name.CopyTo(h[46..]);
        if (zip64Length > 0) WriteZip64Field(h[(46 + e.Name.Length)..], zip64);
        return header;
    }

    private static void WriteZip64Field(Span<byte> at, List<long> values)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(at, 0x0001);
        BinaryPrimitives.WriteUInt16LittleEndian(at[2..], (ushort)(8 * values.Count));
        for (var i = 0; i < values.Count; i++) BinaryPrimitives.WriteUInt64LittleEndian(at[(4 + 8 * i)..], (ulong)values[i]);
    }

    private static ushort VersionNeeded(bool zip64) => zip64 ? (ushort)45 : (ushort)20;

    private void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        _out.Write(bytes);
        _position += bytes.Length;
    }

    /// <summary>An open record: takes exactly the announced number of bytes, computing their CRC-32 on the way.</summary>
    public sealed class Record
    {
        private readonly ZipWriter _zip;
        private readonly byte[] _name;
        private readonly long _offset;
        private readonly long _size;
        private readonly Crc32 _crc = new();
        private long _written;

        internal Record(ZipWriter zip, string name, byte[] nameBytes, long offset, long size)
        {
            _zip = zip;
            Name = name;
            _name = nameBytes;
            _offset = offset;
            _size = size;
        }

        /// <summary>The record's name, for messages.</summary>
        public string Name { get; }

        /// <summary>Appends data to the record.</summary>
        public void Write(ReadOnlySpan<byte> data)
        {
            if (data.Length > _size - _written)
                throw new InvalidOperationException($"Record '{Name}' was announced with {_size} bytes; more were written.");
            _crc.Append(data);
            _zip.WriteRaw(data);
            _written += data.Length;
        }

        /// <summary>Ends the record with its data descriptor.</summary>
        public void Finish()
        {
            if (_written != _size)
                throw new InvalidOperationException($"Record '{Name}' was announced with {_size} bytes but got {_written}.");
            var big = _size >= Zip64Threshold;
            var descriptor = new byte[big ? 24 : 16];
            var d = descriptor.AsSpan();
            BinaryPrimitives.WriteUInt32LittleEndian(d, 0x08074b50);
            var crc = _crc.GetCurrentHashAsUInt32();
            BinaryPrimitives.WriteUInt32LittleEndian(d[4..], crc);
            if (big)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(d[8..], (ulong)_size);
                BinaryPrimitives.WriteUInt64LittleEndian(d[16..], (ulong)_size);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(d[8..], (uint)_size);
                BinaryPrimitives.WriteUInt32LittleEndian(d[12..], (uint)_size);
            }
            _zip.WriteRaw(descriptor);
            _zip._entries.Add(new Entry(_name, _offset, _size, crc));
            _zip._open = null;
        }
    }
}
