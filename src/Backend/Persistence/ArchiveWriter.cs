using System.Buffers;
using System.Text;

namespace MLLrSched.Backend.Persistence;

/// <summary>
/// Second phase of saving: writes a checked value (<see cref="SaveTree"/>) as torch.save's zip archive — records
/// <c>archive/data.pkl</c>, <c>archive/byteorder</c>, <c>archive/data/&lt;key&gt;</c> for each storage and
/// <c>archive/version</c>, in the order PyTorch writes them.
/// </summary>
/// <remarks>Storage bytes stream from the tensors piece by piece, so saving holds no copy of the model: memory an
/// engine shares through <see cref="ITensorStorageSharing"/> is copied out a chunk at a time, and other tensors a
/// chunk of elements at a time once they are larger than a chunk.</remarks>
internal static class ArchiveWriter
{
    /// <summary>The folder every record lives in; PyTorch uses "archive" when it does not take a file's name.</summary>
    public const string Prefix = "archive";

    /// <summary>torch.save's file format version (<c>kProducedFileFormatVersion</c>).</summary>
    private const string FormatVersion = "3\n";

    /// <summary>Bytes copied out of a shared storage per call: small enough to stay in cache for the CRC.</summary>
    internal static int ChunkBytes = 1 << 20;

    /// <summary>Tensors larger than this are fetched through <see cref="ITensor.ToBytes"/> in pieces of about this size
    /// (which also keeps each piece under .NET's 2 GiB array limit). Tests lower it.</summary>
    internal static long PieceBytes = 64L << 20;

    /// <summary>The file's size: the records plus at most this much per record for headers, padding and directory.</summary>
    public static long EstimateSize(SaveTree tree, int pickleLength) =>
        pickleLength + tree.Storages.Sum(s => s.ByteLength) + 256L * (tree.Storages.Count + 3) + 256;

    public static void Write(Stream output, SaveTree tree, byte[] pickle)
    {
        var zip = new ZipWriter(output);
        WriteRecord(zip, "data.pkl", pickle);
        // Little-endian storages, recorded as PyTorch ≥ 2.1 does (older readers ignore the record).
        WriteRecord(zip, "byteorder", "little"u8);
        foreach (var storage in tree.Storages)
        {
            var record = zip.Begin($"{Prefix}/data/{storage.Key}", storage.ByteLength);
            if (storage.Sharing != null) CopyShared(storage, record);
            else CopyOwn(storage, record);
            record.Finish();
        }
        WriteRecord(zip, "version", Encoding.ASCII.GetBytes(FormatVersion));
        zip.Finish();
    }

    private static void WriteRecord(ZipWriter zip, string name, ReadOnlySpan<byte> data)
    {
        var record = zip.Begin($"{Prefix}/{name}", data.Length);
        record.Write(data);
        record.Finish();
    }

    private static void CopyShared(SavedStorage storage, ZipWriter.Record record)
    {
        var total = storage.ByteLength;
        if (total == 0) return;
        // A chunk is a whole number of elements (the capability copies element-aligned pieces).
        var chunk = (int)Math.Min(total, Math.Max(ChunkBytes / 8 * 8, 8));
        var buffer = ArrayPool<byte>.Shared.Rent(chunk);
        try
        {
            for (long done = 0; done < total;)
            {
                var n = (int)Math.Min(chunk, total - done);
                var span = buffer.AsSpan(0, n);
                storage.Sharing!.CopyStorageBytes(storage.Source, done, span);
                record.Write(span);
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void CopyOwn(SavedStorage storage, ZipWriter.Record record)
    {
        var t = storage.Source;
        if (storage.ByteLength <= PieceBytes)
        {
            record.Write(t.ToBytes());
            return;
        }
        // Row-major pieces of the flattened tensor (a copy only when the tensor is not contiguous).
        var perPiece = Math.Max(1, PieceBytes / storage.DType.ElementSize());
        using var noGrad = t.Backend.NoGrad();
        using var flat = t.Reshape(-1);
        for (long start = 0; start < storage.Numel; start += perPiece)
        {
            using var piece = flat.Narrow(0, start, Math.Min(perPiece, storage.Numel - start));
            record.Write(piece.ToBytes());
        }
    }
}
