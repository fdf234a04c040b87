// scikit-learn's bundled data sets as Debian ships them (python3-sklearn), read as ML.NET rows.
using System.Globalization;
using System.IO.Compression;
using Microsoft.ML.Data;

namespace PackageConsumer;

public sealed class DigitInput
{
    [VectorType(64)] public float[] Pixels { get; set; } = [];
    public float Digit { get; set; }
}

public sealed class DigitOutput
{
    public float PredictedLabel { get; set; }
    public float[] Score { get; set; } = [];
}

public sealed class TumourInput
{
    [VectorType(30)] public float[] Measurements { get; set; } = [];
    public bool Malignant { get; set; }
}

public sealed class TumourOutput
{
    public bool PredictedLabel { get; set; }
    public float Probability { get; set; }
    public float Score { get; set; }
}

public sealed class DiabetesInput
{
    [VectorType(10)] public float[] Measurements { get; set; } = [];
    public float Progression { get; set; }
}

public sealed class DiabetesOutput
{
    public float Score { get; set; }
}

public static class Datasets
{
    public static string Folder { get; set; } =
        Environment.GetEnvironmentVariable("SKLEARN_DATA") ?? "/usr/lib/python3/dist-packages/sklearn/datasets/data";

    private static readonly CultureInfo Ic = CultureInfo.InvariantCulture;

    private static IEnumerable<string> Lines(string file)
    {
        var path = Path.Combine(Folder, file);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: install Debian's python3-sklearn (apt install python3-sklearn), or set SKLEARN_DATA.", path);
        using var stream = File.OpenRead(path);
        using var reader = new StreamReader(file.EndsWith(".gz") ? new GZipStream(stream, CompressionMode.Decompress) : stream);
        while (reader.ReadLine() is { } line) if (line.Length > 0) yield return line;
    }

    private static float[] Numbers(string line, char separator) =>
        line.Split(separator, StringSplitOptions.RemoveEmptyEntries).Select(v => float.Parse(v, Ic)).ToArray();

    /// <summary>8×8 images of handwritten digits (pixel values 0–16), 1797 rows, 10 classes.</summary>
    public static DigitInput[] Digits() =>
        Lines("digits.csv.gz").Select(l => Numbers(l, ',')).Select(v => new DigitInput { Pixels = v[..64], Digit = v[64] }).ToArray();

    /// <summary>Wisconsin breast cancer: 30 measurements, 569 rows; sklearn's target 0 is malignant.</summary>
    public static TumourInput[] BreastCancer() =>
        Lines("breast_cancer.csv").Skip(1).Select(l => Numbers(l, ',')).Select(v => new TumourInput { Measurements = v[..30], Malignant = v[30] == 0 }).ToArray();

    /// <summary>Diabetes progression after one year from 10 raw baseline measurements, 442 rows.</summary>
    public static DiabetesInput[] Diabetes() =>
        Lines("diabetes_data_raw.csv.gz").Select(l => Numbers(l, ' ')).Zip(Lines("diabetes_target.csv.gz").Select(l => float.Parse(l, Ic)))
            .Select(p => new DiabetesInput { Measurements = p.First, Progression = p.Second }).ToArray();
}
