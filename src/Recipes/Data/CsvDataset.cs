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
    /// <summary>Where <see cref="ClassCount"/> came from, for messages (e.g. the training file when a test file is read).</summary>
    internal string? ClassCountSource { get; init; }
}

/// <summary>Reads numeric CSV files (every feature column a number) with CsvHelper. Every error names the file, the line
/// as an editor shows it (blank lines counted) and the column.</summary>
public static class CsvDataset
{
    /// <summary>Without <see cref="CsvOptions.ClassCount"/>, the class count is one more than the largest label; a label
    /// that would make more classes than this (and more than the file has rows) is taken for a mistake.</summary>
    public const int MaxInferredClasses = 10_000;

    /// <summary>Loads <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist (named in the message).</exception>
    /// <exception cref="InvalidDataException">A cell is not a number, a row has the wrong number of fields, the quoting is
    /// broken, a label is not a class index in range, or the label column is unknown; the message names file, line and column.</exception>
    public static InMemoryDataset Load(string path, CsvOptions? options = null)
    {
        options ??= new CsvOptions();
        if (Directory.Exists(path)) throw new FileNotFoundException($"CSV file '{path}' is a folder; give the CSV file.", path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file '{path}' does not exist.", path);
        if (string.IsNullOrEmpty(options.Delimiter)) throw new InvalidDataException($"{path}: the delimiter is empty; give one character such as \",\" or \";\".");
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            HasHeaderRecord = options.HasHeader, Delimiter = options.Delimiter, DetectColumnCountChanges = false,
        };
        string[]? header = null;
        var rows = new List<string[]>();
        var lines = new List<int>();
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot be read: {e.Message}", e);
        }
        // Line numbers as an editor shows them: from the parser's character offsets, so blank lines and line breaks
        // inside quoted fields are counted (the parser's own row counters count neither consistently).
        var newlines = new List<int>();
        for (var i = 0; i < text.Length; i++)
            if (text[i] == '\n') newlines.Add(i);
        int LineAt(long offset)
        {
            var k = newlines.BinarySearch((int)Math.Min(offset, int.MaxValue));
            return 1 + (k >= 0 ? k : ~k);
        }
        long StartOfNext(long consumed)
        {
            while (consumed < text.Length && text[(int)consumed] is '\r' or '\n') consumed++;
            return consumed;
        }
        long previous = 0;
        try
        {
            using var csv = new CsvReader(new StringReader(text), config);
            if (options.HasHeader)
            {
                if (!csv.Read()) throw new InvalidDataException($"{path}: the file is empty.");
                csv.ReadHeader();
                header = csv.HeaderRecord;
                previous = csv.Parser.CharCount;
            }
            while (csv.Read())
            {
                rows.Add(csv.Parser.Record!);
                lines.Add(LineAt(StartOfNext(previous)));
                previous = csv.Parser.CharCount;
            }
        }
        catch (CsvHelperException e)
        {
            var first = LineAt(StartOfNext(previous));
            var last = e.Context?.Parser is { } p ? LineAt(Math.Max(p.CharCount - 1, 0)) : first;
            var at = last > first ? $", lines {first}–{last}" : $", line {first}";
            var what = e is BadDataException
                ? "broken quoting: a field has a '\"' that is never closed or is not doubled (write \"\" for a quote inside a quoted field)"
                : e.Message.Split('\n')[0].Trim();
            throw new InvalidDataException($"{path}{at}: {what}.", e);
        }
        if (rows.Count == 0) throw new InvalidDataException($"{path}: the file has no data rows.");
        var width = header?.Length ?? rows[0].Length;
        string ColumnName(int i) => header != null ? $"'{header[i]}'" : $"#{i}";

        int Resolve(string col, string what)
        {
            if (header != null)
            {
                var i = Array.IndexOf(header, col);
                if (i >= 0) return i;
                throw new InvalidDataException($"{path}: no {what} column '{col}'. Columns: {string.Join(", ", header)}.");
            }
            if (int.TryParse(col, NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k < width) return k;
            throw new InvalidDataException($"{path}: {what} column '{col}' must be a zero-based index below {width} (the file has no header).");
        }

        var labelIndex = options.LabelColumn == null ? width - 1 : Resolve(options.LabelColumn, "label");
        var ignored = options.IgnoreColumns.Select(c => Resolve(c, "ignored")).ToHashSet();
        var weightIndex = options.WeightColumn == null ? -1 : Resolve(options.WeightColumn, "weight");
        if (weightIndex == labelIndex) throw new InvalidDataException($"{path}: the weight column {ColumnName(weightIndex)} is also the label column.");
        if (ignored.Contains(labelIndex)) throw new InvalidDataException($"{path}: the label column {ColumnName(labelIndex)} is also in ignore_columns.");
        var featureCols = Enumerable.Range(0, width).Where(i => i != labelIndex && i != weightIndex && !ignored.Contains(i)).ToArray();
        if (featureCols.Length == 0) throw new InvalidDataException($"{path}: no feature columns left besides the label.");

        var features = new float[checked(rows.Count * featureCols.Length)];
        var labels = new double[rows.Count];
        var weights = weightIndex < 0 ? null : new float[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            var line = lines[r];
            if (row.Length != width)
                throw new InvalidDataException($"{path}, line {line}: {row.Length} fields, expected {width}{(header != null ? " (as the header)" : " (as the first row)")}.");
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
            var largest = 0;
            for (var i = 0; i < labels.Length; i++)
            {
                var v = labels[i];
                var at = $"{path}, line {lines[i]}, column {ColumnName(labelIndex)}";
                if (v != Math.Floor(v))
                    throw new InvalidDataException($"{at}: label {Fmt(v)} is not a whole number; classification needs class indices 0, 1, 2, ... (for float targets set \"task\": \"regression\").");
                if (v < 0)
                    throw new InvalidDataException($"{at}: label {Fmt(v)} is negative; class indices start at 0.");
                if (options.ClassCount is { } declared && v >= declared)
                    throw new InvalidDataException(
                        $"{at}: label {Fmt(v)} is outside the {declared} classes (0 to {declared - 1}) of {options.ClassCountSource ?? "data.class_count"}; " +
                        (options.ClassCountSource != null ? "every split must use the training data's classes (or set data.class_count)." : "raise class_count or fix the label."));
                if (options.ClassCount == null && v >= MaxInferredClasses && v >= labels.Length)
                    throw new InvalidDataException(
                        $"{at}: label {Fmt(v)} would make {Fmt(v + 1)} classes for {labels.Length} rows. If that many classes is right, set data.class_count; otherwise fix the label.");
                classes[i] = (long)v;
                if (v > largest) largest = (int)v;
            }
            var count = options.ClassCount ?? Math.Max(2, largest + 1);
            return InMemoryDataset.ForClassification(features, new long[] { featureCols.Length }, classes, count, name);
        }
    }

    private static string Fmt(double v) => v.ToString("0.##########", CultureInfo.InvariantCulture);

    private static double Parse(string cell, string path, int line, string column)
    {
        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)) return v;
        throw new InvalidDataException($"{path}, line {line}, column {column}: '{(cell.Length > 40 ? cell[..40] + "…" : cell)}' is not a finite number.");
    }
}
