using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace MLLrSched.Backend.Persistence;

/// <summary>
/// The zip container torch.save writes (PyTorch ≥ 1.6): records <c>&lt;archive&gt;/data.pkl</c> (the
/// pickle), <c>&lt;archive&gt;/data/&lt;key&gt;</c> (raw little-endian storage bytes) and
/// <c>&lt;archive&gt;/version</c>, where &lt;archive&gt; is whatever folder name the writer chose (the
/// file's stem for Python, "archive" for libtorch). Records are normally stored uncompressed; ZIP64
/// (files over 4 GiB) is handled by <see cref="ZipArchive"/>. Every failure to parse the container is
/// reported as <see cref="TorchSerializationError.Corrupt"/>.
/// </summary>
internal sealed class TorchArchive : IDisposable
{
    private readonly ZipArchive _zip;
    private readonly Dictionary<string, ZipArchiveEntry> _entries;
    private readonly long _fileLength;

    /// <summary>The folder name every record lives under.</summary>
    public string Prefix { get; }

    private TorchArchive(ZipArchive zip, long fileLength)
    {
        _zip = zip;
        _fileLength = fileLength;
        _entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var e in zip.Entries) _entries.TryAdd(e.FullName, e);
        if (_entries.Count == 0) throw TorchSerializationException.Corrupt("the zip file has no records.");
        // PyTorch's reader takes the archive folder from the first record; the others must share it.
        var first = zip.Entries[0].FullName;
        var slash = first.IndexOf('/');
        if (slash <= 0) throw TorchSerializationException.Corrupt($"the first record '{first}' is not inside an archive folder, as torch.save writes it.");
        Prefix = first[..slash];
    }

    /// <summary>Opens the container; <paramref name="stream"/> must be seekable and stays open.</summary>
    public static TorchArchive Open(Stream stream)
    {
        CheckSignature(stream);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true, Encoding.UTF8);
            _ = zip.Entries; // parse the central directory now, inside this try
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw TorchSerializationException.Corrupt(e.Message, e);
        }
        try
        {
            return new TorchArchive(zip, stream.Length);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    private static void CheckSignature(Stream stream)
    {
        Span<byte> head = stackalloc byte[4];
        var start = stream.Position;
        var n = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        stream.Position = start;
        if (n == 0) throw TorchSerializationException.Corrupt("the file is empty.");
        if (n == 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4) return;
        if (head[0] == 0x80 || IsTar(stream))
            throw TorchSerializationException.Unsupported(
                "this file uses PyTorch's legacy serialization format (written by PyTorch < 1.6, or with " +
                "torch.save(..., _use_new_zipfile_serialization=False)), which is not supported. Supported: the zip " +
                "format torch.save writes by default since PyTorch 1.6. Re-save it in Python: " +
                "torch.save(torch.load(path), new_path).");
        throw TorchSerializationException.Corrupt(
            $"the file starts with bytes {Convert.ToHexString(head[..n])}, not the zip signature 504B0304.");
    }

    private static bool IsTar(Stream stream)
    {
        // The very first torch.save format was a tar file: "ustar" at offset 257.
        if (stream.Length < 262) return false;
        var start = stream.Position;
        Span<byte> magic = stackalloc byte[5];
        stream.Position = start + 257;
        var n = stream.ReadAtLeast(magic, 5, throwOnEndOfStream: false);
        stream.Position = start;
        return n == 5 && magic.SequenceEqual("ustar"u8);
    }

    /// <summary>True when the archive has a record of that name (relative to the archive folder).</summary>
    public bool Has(string name) => _entries.ContainsKey($"{Prefix}/{name}");

    /// <summary>True when any record lives under <paramref name="folder"/> (relative to the archive folder).</summary>
    public bool HasFolder(string folder) => _entries.Keys.Any(k => k.StartsWith($"{Prefix}/{folder}/", StringComparison.Ordinal));

    /// <summary>The uncompressed length of a record, or -1 when it is absent.</summary>
    public long Length(string name) => _entries.TryGetValue($"{Prefix}/{name}", out var e) ? e.Length : -1;

    /// <summary>
    /// Throws unless the record's bytes can be in the file: its stored bytes no longer than the file, and no more
    /// uncompressed bytes than deflate can produce from them (1032:1 at most). Called before memory is allocated for a
    /// record, so a damaged directory claiming terabytes fails as damage rather than as an allocation.
    /// </summary>
    public void CheckFitsInFile(string name)
    {
        if (!_entries.TryGetValue($"{Prefix}/{name}", out var e)) return;
        if (e.CompressedLength > _fileLength || e.CompressedLength < 0)
            throw TorchSerializationException.Corrupt($"the record '{Prefix}/{name}' claims {e.CompressedLength} bytes in a file of {_fileLength}.");
        if (e.Length > e.CompressedLength && e.Length / 1032 > e.CompressedLength + 1)
            throw TorchSerializationException.Corrupt($"the record '{Prefix}/{name}' claims {e.Length} bytes from {e.CompressedLength} stored ones.");
    }

    /// <summary>A whole (small) record, checked against its CRC.</summary>
    public unsafe byte[] ReadAll(string name)
    {
        var length = Length(name);
        if (length < 0) throw TorchSerializationException.Corrupt($"the record '{Prefix}/{name}' is missing.");
        if (length > Array.MaxLength) throw TorchSerializationException.Corrupt($"the record '{Prefix}/{name}' claims {length} bytes.");
        CheckFitsInFile(name);
        var result = new byte[length];
        fixed (byte* p = result) ReadInto(name, length, p, 1 << 20);
        return result;
    }

    /// <summary>
    /// Reads a record of exactly <paramref name="expectedLength"/> bytes into <paramref name="destination"/>
    /// (native or pinned memory of that size), <paramref name="chunkBytes"/> at a time, checking its
    /// length and CRC. Reading straight into the tensor's memory keeps loading to one copy.
    /// </summary>
    public unsafe void ReadInto(string name, long expectedLength, byte* destination, int chunkBytes)
    {
        var full = $"{Prefix}/{name}";
        if (!_entries.TryGetValue(full, out var entry))
            throw TorchSerializationException.Corrupt($"the record '{full}' is missing.");
        if (entry.Length != expectedLength)
            throw TorchSerializationException.Corrupt($"the record '{full}' holds {entry.Length} bytes; the pickle expects {expectedLength}.");
        // A stored record cannot be longer than the file; a corrupt directory could claim otherwise.
        CheckFitsInFile(name);
        try
        {
            using var stream = entry.Open();
            // Checked against the zip directory, as PyTorch's own reader does: a flipped bit in tensor data fails
            // loudly instead of loading wrong weights.
            var crc = new Crc32();
            long done = 0;
            while (done < expectedLength)
            {
                var span = new Span<byte>(destination + done, (int)Math.Min(Math.Max(chunkBytes, 1), expectedLength - done));
                var got = stream.ReadAtLeast(span, span.Length, throwOnEndOfStream: false);
                if (got < span.Length)
                    throw TorchSerializationException.Corrupt($"the record '{full}' ends after {done + got} of {expectedLength} bytes.");
                crc.Append(span);
                done += got;
            }
            var computed = crc.GetCurrentHashAsUInt32();
            if (computed != entry.Crc32)
                throw TorchSerializationException.Corrupt(
                    $"the record '{full}' fails its CRC-32 check (stored {entry.Crc32:X8}, computed {computed:X8}); the file is damaged.");
        }
        catch (Exception e) when (e is not TorchSerializationException and not OutOfMemoryException)
        {
            throw TorchSerializationException.Corrupt($"cannot read the record '{full}': {e.Message}", e);
        }
    }

    public void Dispose() => _zip.Dispose();
}
