using System.Buffers.Binary;
using System.IO.Compression;
using MLLrSched.Data;

namespace MLLrSched.Recipes.Tests.Data;

/// <summary>Bad data files are refused with the file, the line an editor shows and the column; damaged binary files are
/// found before anything large is allocated.</summary>
[TestClass]
public class DataIntegrityTests
{
    private static string Temp(string name, byte[] content)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mllrsched-data-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static string Csv(string text) => Temp("data.csv", System.Text.Encoding.UTF8.GetBytes(text));

    private static InvalidDataException Bad(string csv, CsvOptions? o = null) => Assert.ThrowsExactly<InvalidDataException>(() => CsvDataset.Load(Csv(csv), o));

    [TestMethod]
    public void LineNumbersCountBlankLinesAndQuotedLineBreaks()
    {
        StringAssert.Contains(Bad("a,b,label\n1,2,0\n\n\n3,x,1\n").Message, "line 5, column 'b'");
        StringAssert.Contains(Bad("a,b,label\r\n1,2,0\r\n\r\n3,x,1\r\n").Message, "line 4, column 'b'");
        StringAssert.Contains(Bad("a,b,label\n\"1\n\",2,0\n3,x,1\n").Message, "line 4, column 'b'");
        StringAssert.Contains(Bad("a,b,label\n1,2,0\n\n3,4\n").Message, "line 4: 2 fields, expected 3");
        StringAssert.Contains(Bad("1,2,0\n\n3,x,1\n", new CsvOptions { HasHeader = false }).Message, "line 3, column #1");
    }

    [TestMethod]
    public void BrokenQuotingIsAMessageWithTheLinesNotAParserDump()
    {
        var e = Bad("a,b,label\n1,2,0\n\"3,4,1\n5,6,1\n");
        StringAssert.Contains(e.Message, "lines 3–4");
        StringAssert.Contains(e.Message, "quot");
        Assert.IsFalse(e.Message.Contains("IReader state", StringComparison.Ordinal) || e.Message.Contains("BadDataFound", StringComparison.Ordinal), e.Message);
        StringAssert.Contains(Bad("a,b,label\n1,2\"x,0\n").Message, "line 2");
    }

    [TestMethod]
    public void LabelsAreCheckedAgainstTheClassesWithTheirLine()
    {
        StringAssert.Contains(Bad("a,label\n1,0\n\n2,-1\n").Message, "line 4, column 'label': label -1 is negative");
        StringAssert.Contains(Bad("a,label\n1,0\n2,1.5\n").Message, "line 3, column 'label': label 1.5 is not a whole number");
        var beyond = Bad("a,label\n1,0\n2,3\n", new CsvOptions { ClassCount = 3 });
        StringAssert.Contains(beyond.Message, "line 3, column 'label': label 3 is outside the 3 classes (0 to 2)");
        // A label that would make a billion classes is a mistake (the model's output layer would take 128 GB).
        var huge = Bad("a,label\n1,0\n2,1000000000\n");
        StringAssert.Contains(huge.Message, "line 3");
        StringAssert.Contains(huge.Message, "would make 1000000001 classes");
        Assert.AreEqual(12, CsvDataset.Load(Csv("a,label\n1,0\n2,11\n")).ClassCount, "a plausible class count is inferred");
        // The test split takes the training data's classes, and says so.
        var dir = Path.GetDirectoryName(Csv("x"))!;
        File.WriteAllText(Path.Combine(dir, "train.csv"), "a,label\n1,0\n2,1\n");
        File.WriteAllText(Path.Combine(dir, "test.csv"), "a,label\n1,0\n\n2,2\n");
        var cfg = RunConfig.Parse("""{"data": {"type": "csv", "train": "train.csv", "test": "test.csv", "validation": "test"}}""", dir);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => cfg.LoadData());
        StringAssert.Contains(e.Message, "test.csv, line 4");
        StringAssert.Contains(e.Message, "training file train.csv");
    }

    private static byte[] Idx(int[] dims, int dataBytes)
    {
        var b = new byte[4 + 4 * dims.Length + dataBytes];
        b[2] = 8;
        b[3] = (byte)dims.Length;
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * i), dims[i]);
        return b;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    [TestMethod]
    public void IdxHeadersAreCheckedAgainstTheFileBeforeAllocating()
    {
        int[] dims;
        var ok = FashionMnist.ReadIdx(Temp("a-idx3-ubyte", Idx([2, 3, 4], 24)), 3, out dims);
        Assert.AreEqual(24, ok.Length);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => FashionMnist.ReadIdx(Temp("b-idx3-ubyte", Idx([2, 3, 4], 20)), 3, out dims));
        StringAssert.Contains(e.Message, "truncated");
        e = Assert.ThrowsExactly<InvalidDataException>(() => FashionMnist.ReadIdx(Temp("c-idx3-ubyte", Idx([2, 3, 4], 30)), 3, out dims));
        StringAssert.Contains(e.Message, "extra bytes");
        // 60000 × 100000 × 100000: more than any array; refused from the header alone.
        e = Assert.ThrowsExactly<InvalidDataException>(() => FashionMnist.ReadIdx(Temp("d-idx3-ubyte.gz", Gzip(Idx([60000, 100000, 100000], 100))), 3, out dims));
        StringAssert.Contains(e.Message, "60000 × 100000 × 100000");
        // 60000 × 28 × 28 from a file of a few hundred bytes: more than deflate can hold.
        e = Assert.ThrowsExactly<InvalidDataException>(() => FashionMnist.ReadIdx(Temp("e-idx3-ubyte.gz", Gzip(Idx([60000, 280, 280], 100))), 3, out dims));
        StringAssert.Contains(e.Message, "more than");
    }

    [TestMethod]
    public void GzipIntegrityIsVerified()
    {
        var rng = new Random(5);
        var payload = Idx([500, 28, 28], 500 * 784);
        rng.NextBytes(payload.AsSpan(16));
        var good = Gzip(payload);
        int[] dims;
        CollectionAssert.AreEqual(payload[16..], FashionMnist.ReadIdx(Temp("ok-idx3-ubyte.gz", good), 3, out dims));

        var crc = (byte[])good.Clone();
        crc[^8] ^= 0x01;   // the trailer's CRC only: the data inflates without complaint
        var e = Assert.ThrowsExactly<InvalidDataException>(() => FashionMnist.ReadIdx(Temp("crc-idx3-ubyte.gz", crc), 3, out dims));
        StringAssert.Contains(e.Message, "damaged");
        var length = (byte[])good.Clone();
        length[^4] ^= 0x01;   // the trailer's length
        Assert.ThrowsExactly<InvalidDataException>(() => FashionMnist.ReadIdx(Temp("len-idx3-ubyte.gz", length), 3, out dims));
        var body = (byte[])good.Clone();
        for (var i = body.Length / 2; i < body.Length / 2 + 200; i++) body[i] ^= 0x5A;   // 200 bytes of the deflate stream
        Assert.ThrowsExactly<InvalidDataException>(() => FashionMnist.ReadIdx(Temp("body-idx3-ubyte.gz", body), 3, out dims));
        var trailing = Gzip([.. payload, 1, 2, 3]);   // more data than the header announces
        e = Assert.ThrowsExactly<InvalidDataException>(() => FashionMnist.ReadIdx(Temp("more-idx3-ubyte.gz", trailing), 3, out dims));
        StringAssert.Contains(e.Message, "more data follows");
        var truncated = good[..(good.Length / 2)];
        Assert.ThrowsExactly<InvalidDataException>(() => FashionMnist.ReadIdx(Temp("half-idx3-ubyte.gz", truncated), 3, out dims));
    }
}
