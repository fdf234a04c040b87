using System.Text.Json;

namespace MLLrSched.Tests.Shared;

/// <summary>
/// The golden data of one PyTorch version (tools/golden/data/torch-X.Y, copied to golden/torch-X.Y in the test output).
/// PyTorch's own numbers change between versions, so an engine is checked against the set of the libtorch it runs on;
/// an engine on a libtorch with no recorded set is reported, not compared against the wrong numbers.
/// </summary>
internal sealed class GoldenSet
{
    private GoldenSet(string series, string folder)
    {
        Series = series;
        Folder = folder;
    }

    /// <summary>"1.13", "2.6", ...</summary>
    public string Series { get; }

    /// <summary>The set's folder in the test output.</summary>
    public string Folder { get; }

    /// <summary>"torch-1.13".</summary>
    public string Name => "torch-" + Series;

    /// <summary>The folder every set is copied to.</summary>
    public static string Root => Path.Combine(AppContext.BaseDirectory, "golden");

    /// <summary>The sets present, e.g. ["torch-1.13", "torch-2.6"].</summary>
    public static string[] Available =>
        Directory.Exists(Root) ? Directory.GetDirectories(Root, "torch-*").Select(d => Path.GetFileName(d)!).Order().ToArray() : [];

    /// <summary>"major.minor" of a version string such as "1.13.0", "1.13.0a0" or "2.6.0+cpu".</summary>
    public static string SeriesOf(string version)
    {
        var parts = version.Split('.', '+', 'a', 'b', 'r');
        return parts.Length >= 2 ? $"{parts[0]}.{parts[1]}" : version;
    }

    /// <summary>The set for <paramref name="libtorchVersion"/>, or null when none was recorded.</summary>
    public static GoldenSet? For(string libtorchVersion)
    {
        var series = SeriesOf(libtorchVersion);
        var folder = Path.Combine(Root, "torch-" + series);
        return Directory.Exists(folder) ? new GoldenSet(series, folder) : null;
    }

    /// <summary>The set for <paramref name="libtorchVersion"/>; a missing one ends the test as inconclusive (skipped)
    /// with one line saying which sets exist and how to record one.</summary>
    public static GoldenSet Require(string libtorchVersion) => For(libtorchVersion) ?? throw new AssertInconclusiveException(
        $"no golden set for libtorch {libtorchVersion} (recorded: {string.Join(", ", Available)}); record one with the scripts in " +
        $"tools/golden/ run by a PyTorch {SeriesOf(libtorchVersion)}");

    /// <summary>The path of <paramref name="relative"/> (e.g. "optimizers/optimizers.json") in this set.</summary>
    public string PathOf(string relative) => Path.Combine(Folder, relative);

    /// <summary>Parses a JSON file of this set; a missing file fails naming the script that writes it.</summary>
    public JsonElement Load(string relative)
    {
        var path = PathOf(relative);
        if (!File.Exists(path))
            Assert.Fail($"Golden file {path} is missing from set {Name}; regenerate it with the script under tools/golden/.");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    /// <summary>Asserts a golden file's header names a PyTorch of this set's series.</summary>
    public void AssertMadeByThisSeries(JsonElement header, string what)
    {
        var version = header.GetProperty("torch_version").GetString()!;
        Assert.AreEqual(Series, SeriesOf(version), $"{what} in set {Name} was written by torch {version}");
        StringAssert.Contains(header.GetProperty("torch_package").GetString()!, SeriesOf(version), $"{what}: torch_package");
    }
}
