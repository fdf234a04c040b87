using System.IO.Compression;

namespace MLLrSched.Torch.Tests.Serialization;

/// <summary>Builds torch.save-shaped zip files with hand-made records, to test the reader on input no
/// writer produces (the CRCs are valid, so only the content is wrong).</summary>
internal static class ZipFixtures
{
    public static byte[] Build(params (string Name, byte[] Data)[] records)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in records)
            {
                var e = zip.CreateEntry(name, CompressionLevel.NoCompression);
                using var s = e.Open();
                s.Write(data);
            }
        }
        return ms.ToArray();
    }

    /// <summary>A file whose data.pkl is <paramref name="pickle"/> (plus optional storages).</summary>
    public static byte[] WithPickle(byte[] pickle, params (string Key, byte[] Data)[] storages) =>
        Build([("archive/data.pkl", pickle), .. storages.Select(s => ($"archive/data/{s.Key}", s.Data)), ("archive/version", "3\n"u8.ToArray())]);

    /// <summary>The records of an existing file, by name, in order.</summary>
    public static List<(string Name, byte[] Data)> Records(byte[] file)
    {
        using var zip = new ZipArchive(new MemoryStream(file), ZipArchiveMode.Read);
        return zip.Entries.Select(e =>
        {
            using var s = e.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            return (e.FullName, ms.ToArray());
        }).ToList();
    }
}
