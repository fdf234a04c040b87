using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace MLLrSched.Data;

/// <summary>Options for reading a CSV file into a dataset.</summary>
public sealed record CsvOptions
{
    /// <summary>Name (with a header) or zero-based index (without) of the label column. Default: the last column.</summary>
    public string? LabelColumn { get; init; }
    /// <summary>Name (with a header) or zero-based index (without) of a sample-weight column, or null for none (default).
    /// Its values (finite, ≥ 0) become the dataset's sample weights; the column is not a feature.</summary>
    public string? WeightColumn { get; init; }
    /// <summary>Whether the first row is a header. Default true.</summary>
    public bool HasHeader { get; init; } = true;
    /// <summary>Field delimiter. Default ",".</summary>
    public string Delimiter { get; init; } = ",";
    /// <summary>Classification (integer labels in [0, classes)) or regression (float targets).</summary>
    public LabelKind LabelKind { get; init; } = LabelKind.ClassIndex;
    /// <summary>Number of classes; by default one more than the largest label.</summary>
    public int? ClassCount { get; init; }
    /// <summary>Columns to ignore (names with a header, indices without).</summary>
    public IReadOnlyList<string> IgnoreColumns { get; init; } = Array.Empty<string>();
}

/// <summary>Reads numeric CSV files (every feature column a number) with CsvHelper.</summary>
public static class CsvDataset
{
    /// <summary>Loads <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist (named in the message).</exception>
    /// <exception cref="InvalidDataException">A cell is not a number, a row has the wrong number of fields, or the label column is unknown; the message names file, row and column.</exception>
    public static InMemoryDataset Load(string path, CsvOptions? options = null)
    {
        options ??= new CsvOptions();
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file '{path}' does not exist.", path);
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { HasHeaderRecord = options.HasHeader, Delimiter = options.Delimiter };
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, config);
        string[]? header = null;
        if (options.HasHeader)
        {
            if (!csv.Read()) throw new InvalidDataException($"{path}: the file is empty.");
            csv.ReadHeader();
            header = csv.HeaderRecord;
        }
        var rows = new List<string[]>();
        while (csv.Read()) rows.Add(csv.Parser.Record!);
        if (rows.Count == 0) throw new InvalidDataException($"{path}: the file has no data rows.");
        var width = header?.Length ?? rows[0].Length;
        string ColumnName(int i) => header != null ? $"'{header[i]}'" : $"#{i}";

        int Resolve(string col)
        {
            if (header != null)
            {
                var i = Array.IndexOf(header, col);
                if (i >= 0) return i;
                throw new InvalidDataException($"{path}: no column '{col}'. Columns: {string.Join(", ", header)}.");
            }
            if (int.TryParse(col, NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k < width) return k;
            throw new InvalidDataException($"{path}: column '{col}' must be a zero-based index below {width} (the file has no header).");
        }

        var labelIndex = options.LabelColumn == null ? width - 1 : Resolve(options.LabelColumn);
        var ignored = options.IgnoreColumns.Select(Resolve).ToHashSet();
        var weightIndex = options.WeightColumn == null ? -1 : Resolve(options.WeightColumn);
        if (weightIndex == labelIndex) throw new InvalidDataException($"{path}: the weight column {ColumnName(weightIndex)} is also the label column.");
        var featureCols = Enumerable.Range(0, width).Where(i => i != labelIndex && i != weightIndex && !ignored.Contains(i)).ToArray();
        if (featureCols.Length == 0) throw new InvalidDataException($"{path}: no feature columns left besides the label.");

        var features = new float[rows.Count * featureCols.Length];
        var labels = new double[rows.Count];
        var weights = weightIndex < 0 ? null : new float[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            var line = r + (options.HasHeader ? 2 : 1);
            if (row.Length != width)
                throw new InvalidDataException($"{path}, line {line}: {row.Length} fields, expected {width}.");
            for (var j = 0; j < featureCols.Length; j++)
                features[r * featureCols.Length + j] = (float)Parse(row[featureCols[j]], path, line, ColumnName(featureCols[j]));
            labels[r] = Parse(row[labelIndex], path, line, ColumnName(labelIndex));
            if (weights != null)
            {
                var w = Parse(row[weightIndex], path, line, ColumnName(weightIndex));
                if (w < 0) throw new InvalidDataException($"{path}, line {line}, column {ColumnName(weightIndex)}: weight {w} is negative; sample weights must be ≥ 0.");
                weights[r] = (float)w;
            }
        }

        var name = Path.GetFileName(path);
        var dataset = Build();
        return weights == null ? dataset : dataset.WithSampleWeights(weights);

        InMemoryDataset Build()
        {
            if (options.LabelKind == LabelKind.Regression)
                return InMemoryDataset.ForRegression(features, new long[] { featureCols.Length }, labels.Select(x => (float)x).ToArray(), 1, name);
            var classes = new long[labels.Length];
            for (var i = 0; i < labels.Length; i++)
            {
                if (labels[i] != Math.Floor(labels[i]))
                    throw new InvalidDataException($"{path}, line {i + (options.HasHeader ? 2 : 1)}: label {labels[i]} in column {ColumnName(labelIndex)} is not a whole number (classification needs class indices; use LabelKind.Regression for float targets).");
                classes[i] = (long)labels[i];
            }
            var count = options.ClassCount ?? (int)Math.Max(2, classes.Max() + 1);
            return InMemoryDataset.ForClassification(features, new long[] { featureCols.Length }, classes, count, name);
        }
    }

    private static double Parse(string cell, string path, int line, string column)
    {
        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)) return v;
        throw new InvalidDataException($"{path}, line {line}, column {column}: '{cell}' is not a finite number.");
    }
}
