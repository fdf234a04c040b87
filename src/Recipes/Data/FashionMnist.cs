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
        for (var i = 0; i < labels.Length; i++) y[i] = labels[i];
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

    /// <summary>Reads an unsigned-byte IDX file; <paramref name="dims"/> receives its dimensions.</summary>
    public static byte[] ReadIdx(string path, int expectedRank, out int[] dims)
    {
        using var file = File.OpenRead(path);
        using Stream s = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        Span<byte> header = stackalloc byte[4];
        ReadExactly(s, header, path);
        if (header[0] != 0 || header[1] != 0 || header[2] != 0x08)
            throw new InvalidDataException($"{path}: not an unsigned-byte IDX file (magic {header[0]:X2}{header[1]:X2}{header[2]:X2}{header[3]:X2}).");
        if (header[3] != expectedRank)
            throw new InvalidDataException($"{path}: expected a rank-{expectedRank} IDX file, got rank {header[3]}.");
        dims = new int[expectedRank];
        Span<byte> d = stackalloc byte[4];
        long total = 1;
        for (var i = 0; i < expectedRank; i++)
        {
            ReadExactly(s, d, path);
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(d);
            if (dims[i] <= 0) throw new InvalidDataException($"{path}: dimension {i} is {dims[i]}.");
            total *= dims[i];
        }
        var data = new byte[total];
        ReadExactly(s, data, path);
        return data;
    }

    private static void ReadExactly(Stream s, Span<byte> buffer, string path)
    {
        try { s.ReadExactly(buffer); }
        catch (EndOfStreamException) { throw new InvalidDataException($"{path}: file is truncated."); }
    }
}
