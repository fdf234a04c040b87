namespace MLLrSched.Recipes;

/// <summary>
/// Writes a file so that readers (and a crash) see either the old file or the complete new one: the bytes go to a
/// hidden temporary file beside it, <c>.NAME.GUID.tmp</c> (the pattern the PyTorch file writer uses too), which is
/// then renamed over the target. <see cref="IsTemporary"/> recognises the leftovers of a write that was killed.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/>.</summary>
    public static void WriteAllText(string path, string text) => Write(path, s =>
    {
        using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true);
        w.Write(text);
    });

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/>.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    /// <summary>Writes what <paramref name="write"/> writes to <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>True for the name of a temporary file this class or the PyTorch file writer leaves when killed while
    /// writing <paramref name="target"/> (any target when null): <c>.TARGET.32-hex-digits.tmp</c>.</summary>
    public static bool IsTemporary(string fileName, string? target = null)
    {
        if (!fileName.StartsWith('.') || !fileName.EndsWith(".tmp", StringComparison.Ordinal) || fileName.Length < 1 + 1 + 33 + 4) return false;
        var guid = fileName[^36..^4];
        if (fileName[^37] != '.' || !guid.All(char.IsAsciiHexDigitLower)) return false;
        var name = fileName[1..^37];
        return target == null ? name.Length > 0 : name == target;
    }
}
