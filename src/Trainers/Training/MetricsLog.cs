using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MLLrSched.Training;

/// <summary>
/// Writes one row per progress report to a CSV file (or JSON lines when the path ends in <c>.jsonl</c>). The file is
/// flushed after each row, so a crashed run keeps everything logged before the crash. It describes one run: a new fit
/// starts it afresh, and a resumed fit first cuts it back to the rows its checkpoint had seen.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private static readonly string[] Columns =
        { "kind", "step", "epoch", "loss", "lr", "grad_norm", "samples_per_sec", "val_loss", "val_accuracy", "ema_val_loss", "ema_val_accuracy", "skipped_steps", "elapsed_s" };

    private readonly StreamWriter _writer;
    private readonly bool _jsonl;

    private MetricsLog(string path, StreamWriter writer, bool jsonl)
    {
        FilePath = path;
        _writer = writer;
        _jsonl = jsonl;
    }

    /// <summary>Opens <paramref name="path"/> keeping its header and first <paramref name="keepRows"/> rows (0 = a new
    /// file), so rows written after a checkpoint by an interrupted run are not duplicated by the resumed one.</summary>
    internal static MetricsLog Open(string path, long keepRows)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var jsonl = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);
        var kept = new List<string>();
        if (keepRows > 0 && File.Exists(path))
            kept.AddRange(File.ReadLines(path).Where(l => l.Length > 0).Skip(jsonl ? 0 : 1).Take((int)Math.Min(keepRows, int.MaxValue)));
        var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        if (!jsonl) writer.WriteLine(string.Join(",", Columns));
        foreach (var line in kept) writer.WriteLine(line);
        writer.Flush();
        return new MetricsLog(path, writer, jsonl);
    }

    /// <summary>The file's path.</summary>
    public string FilePath { get; }

    /// <summary>Appends one report.</summary>
    public void Write(TrainingProgress p)
    {
        object?[] values =
        {
            p.Kind == ProgressKind.Step ? "step" : "epoch", p.Step, p.Epoch, p.Loss, p.Lr, p.GradNorm, p.SamplesPerSecond,
            p.ValLoss, p.ValAccuracy, p.EmaValLoss, p.EmaValAccuracy, p.SkippedSteps, p.Elapsed.TotalSeconds,
        };
        if (_jsonl)
        {
            var obj = new Dictionary<string, object?>();
            for (var i = 0; i < Columns.Length; i++)
                obj[Columns[i]] = values[i] is double d && !double.IsFinite(d) ? d.ToString(CultureInfo.InvariantCulture) : values[i];
            _writer.WriteLine(JsonSerializer.Serialize(obj));
        }
        else
            _writer.WriteLine(string.Join(",", values.Select(Format)));
        _writer.Flush();
    }

    private static string Format(object? v) => v switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>Reads a CSV metrics file back (for plots): one dictionary per row, empty cells omitted.</summary>
    public static List<Dictionary<string, string>> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return new();
        var header = lines[0].Split(',');
        return lines.Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            var cells = l.Split(',');
            var row = new Dictionary<string, string>();
            for (var i = 0; i < Math.Min(cells.Length, header.Length); i++)
                if (cells[i].Length > 0) row[header[i]] = cells[i];
            return row;
        }).ToList();
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _writer.Dispose();
}
