using System.Buffers.Binary;
using System.IO.Compression;

namespace MLLrSched.Data;

/// <summary>
/// Reads Fashion-MNIST (or MNIST) from its IDX files, gzipped or not — by default from Debian's
/// <c>dataset-fashion-mnist</c> package at <see cref="DefaultDirectory"/>. Pixels are scaled to [0, 1].
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package puts the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The ten class names, by label.</summary>
    public static readonly string[] ClassNames =
        { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

    /// <summary>Loads the training split (60,000 images) or the test split (10,000).</summary>
    /// <param name="directory">Folder with <c>train-images-idx3-ubyte[.gz]</c> etc.</param>
    /// <param name="train">True for the training split, false for the test split.</param>
    /// <param name="imageShape">True: samples are [1, 28, 28] (for CNNs); false: [784] (for MLPs).</param>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it and the package that provides it.</exception>
    public static InMemoryDataset Load(string? directory = null, bool train = true, bool imageShape = false)
    {
        var dir = directory ?? DefaultDirectory;
        var prefix = train ? "train" : "t10k";
        var images = ReadIdx(Find(dir, $"{prefix}-images-idx3-ubyte"), 3, out var dims);
        var labels = ReadIdx(Find(dir, $"{prefix}-labels-idx1-ubyte"), 1, out var ldims);
        var n = dims[0];
        if (ldims[0] != n) throw new InvalidDataException($"{dir}: {n} images but {ldims[0]} labels.");
        var pixels = new float[images.Length];
        for (var i = 0; i < images.Length; i++) pixels[i] = images[i] / 255f;
        var y = new long[labels.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= ClassNames.Length)
                throw new InvalidDataException($"{Find(dir, $"{prefix}-labels-idx1-ubyte")}: label {labels[i]} of item {i} is not one of the {ClassNames.Length} classes (0 to {ClassNames.Length - 1}); the file is damaged or not Fashion-MNIST.");
            y[i] = labels[i];
        }
        long[] shape = imageShape ? new long[] { 1, dims[1], dims[2] } : new long[] { dims[1] * dims[2] };
        return InMemoryDataset.ForClassification(pixels, shape, y, 10, $"fashion-mnist:{(train ? "train" : "test")}");
    }

    private static string Find(string dir, string name)
    {
        foreach (var candidate in new[] { Path.Combine(dir, name + ".gz"), Path.Combine(dir, name) })
            if (File.Exists(candidate)) return candidate;
        throw new FileNotFoundException(
            $"Fashion-MNIST file '{name}[.gz]' not found in '{dir}'. Install Debian's dataset-fashion-mnist package " +
            "(tools/setup.sh does) or point the data directory at a folder with the four IDX files.", Path.Combine(dir, name + ".gz"));
    }

    /// <summary>
    /// Reads an unsigned-byte IDX file (gzipped when its name ends in .gz); <paramref name="dims"/> receives its
    /// dimensions. The header is checked against the file before anything is allocated (an uncompressed file must hold
    /// exactly the bytes it announces; a gzipped one cannot hold more than deflate's best ratio allows), and a gzipped
    /// file's integrity is verified: its CRC-32 and length trailer must match the data, and nothing may follow it.
    /// </summary>
    /// <exception cref="InvalidDataException">Not an IDX file, a header that does not fit the file, a truncated or damaged
    /// file; the message names the file.</exception>
    public static byte[] ReadIdx(string path, int expectedRank, out int[] dims)
    {
        var gz = path.EndsWith(".gz", StringComparison.Ordinal);
        using var file = File.OpenRead(path);
        var fileLength = file.Length;
        using Stream s = gz ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
        var crc = new System.IO.Hashing.Crc32();
        try
        {
            Span<byte> header = stackalloc byte[4];
            ReadExactly(s, header, path);
            crc.Append(header);
            if (header[0] != 0 || header[1] != 0 || header[2] != 0x08)
                throw new InvalidDataException($"{path}: not an unsigned-byte IDX file (magic {header[0]:X2}{header[1]:X2}{header[2]:X2}{header[3]:X2}, expected 000008{expectedRank:X2}).");
            if (header[3] != expectedRank)
                throw new InvalidDataException($"{path}: expected a rank-{expectedRank} IDX file, got rank {header[3]}.");
            dims = new int[expectedRank];
            Span<byte> d = stackalloc byte[4];
            long total = 1;
            for (var i = 0; i < expectedRank; i++)
            {
                ReadExactly(s, d, path);
                crc.Append(d);
                dims[i] = BinaryPrimitives.ReadInt32BigEndian(d);
                if (dims[i] <= 0) throw new InvalidDataException($"{path}: dimension {i} is {dims[i]}; the header is damaged.");
                total = total > Array.MaxLength / dims[i] + 1 ? long.MaxValue : total * dims[i];
            }
            var shape = string.Join(" × ", dims);
            var headerBytes = 4 + 4L * expectedRank;
            if (total > Array.MaxLength)
                throw new InvalidDataException($"{path}: the header announces {shape} items, more than {Array.MaxLength:N0} bytes; the header is damaged.");
            if (!gz && headerBytes + total != fileLength)
                throw new InvalidDataException(
                    $"{path}: the header announces {shape} = {total:N0} bytes of data, the file has {fileLength - headerBytes:N0}; the file is {(headerBytes + total > fileLength ? "truncated" : "damaged (it has extra bytes)")}.");
            // Deflate cannot compress better than about 1032:1, so a header announcing more is damaged (and would
            // otherwise allocate gigabytes before the truncation is noticed).
            if (gz && total > 1032 * fileLength + (1 << 20))
                throw new InvalidDataException($"{path}: the header announces {shape} = {total:N0} bytes, more than {fileLength:N0} compressed bytes can hold; the file is damaged or truncated.");
            var data = new byte[total];
            ReadExactly(s, data, path);
            if (!gz) return data;
            crc.Append(data);
            // Reading past the data makes the decompressor check the trailer; then compare it with our own sums.
            Span<byte> probe = stackalloc byte[16];
            if (s.Read(probe) != 0)
                throw new InvalidDataException($"{path}: more data follows the {shape} items the header announces; the file is damaged.");
            CheckTrailer(file, path, crc.GetCurrentHashAsUInt32(), headerBytes + total);
            return data;
        }
        catch (InvalidDataException e) when (gz && e.Message.StartsWith(path, StringComparison.Ordinal) == false)
        {
            throw new InvalidDataException($"{path}: the gzip data is damaged ({e.Message.TrimEnd('.')}). Reinstall or re-download the file.", e);
        }
    }

    private static void CheckTrailer(FileStream file, string path, uint crc, long length)
    {
        Span<byte> trailer = stackalloc byte[8];
        file.Seek(-8, SeekOrigin.End);
        file.ReadExactly(trailer);
        var storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        var storedLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        if (storedCrc != crc || storedLength != (uint)length)
            throw new InvalidDataException(
                $"{path}: gzip integrity check failed (CRC-32 {crc:x8} / length {(uint)length} of the data read, the file's trailer says {storedCrc:x8} / {storedLength}); " +
                "the file is damaged. Reinstall or re-download it.");
    }

    private static void ReadExactly(Stream s, Span<byte> buffer, string path)
    {
        try { s.ReadExactly(buffer); }
        catch (EndOfStreamException) { throw new InvalidDataException($"{path}: file is truncated."); }
    }
}
