using System.Globalization;
using MLLrSched.Training;

namespace MLLrSched.Plotting;

/// <summary>
/// The charts of a run folder, drawn from its files: <c>lr</c> (the learning rate of every optimizer step, from
/// <c>lr.csv</c>), <c>loss</c> (training loss per report, epoch means and validation loss per optimizer step, from
/// <c>metrics.csv</c>) and <c>accuracy</c> (validation accuracy of the model and the EMA weights per epoch, numbered
/// from 0 as the console prints them) — each as .svg and .png.
/// </summary>
public static class RunCharts
{
    /// <summary>The per-step learning-rate file: a header <c>step,lr</c> (then <c>lr_group_1</c>, ... when the optimizer
    /// has several parameter groups), one row per optimizer step with the lr that step used.</summary>
    public const string LrFileName = "lr.csv";
    /// <summary>The progress file the trainer writes.</summary>
    public const string MetricsFileName = "metrics.csv";

    /// <summary>Draws every chart the folder's files allow.</summary>
    /// <returns>The files written.</returns>
    public static IReadOnlyList<string> Write(string folder)
    {
        var written = new List<string>();
        void Save(Chart c, string stem)
        {
            var (svg, png) = c.Save(Path.Combine(folder, stem));
            written.Add(svg);
            written.Add(png);
        }
        if (LrChart(folder) is { } lr) Save(lr, "lr");
        var metrics = Path.Combine(folder, MetricsFileName);
        if (File.Exists(metrics))
        {
            var rows = MetricsLog.ReadCsv(metrics);
            if (LossChart(rows) is { } loss) Save(loss, "loss");
            if (AccuracyChart(rows) is { } acc) Save(acc, "accuracy");
        }
        return written;
    }

    /// <summary>The learning rate of every step (from lr.csv), or null when the folder has none.</summary>
    public static Chart? LrChart(string folder)
    {
        var path = Path.Combine(folder, LrFileName);
        if (!File.Exists(path)) return null;
        var (columns, data) = ReadNumbers(path);
        if (data.Count == 0 || columns.Length < 2) return null;
        var steps = data.Select(r => r[0]).ToArray();
        var chart = new Chart { Title = "Learning rate (every optimizer step)", XLabel = "optimizer step", YLabel = "lr", IntegerX = true };
        chart.AddSeries(columns.Length > 2 ? "lr (group 0)" : "lr", steps, data.Select(r => r[1]).ToArray());
        for (var c = 2; c < columns.Length; c++)
        {
            var values = data.Select(r => r[c]).ToArray();
            if (!values.SequenceEqual(data.Select(r => r[1])))
                chart.AddSeries(columns[c].Replace("lr_group_", "lr (group ") + ")", steps, values, dashed: true);
        }
        return chart;
    }

    /// <summary>Training loss per report and per epoch, and validation losses at each epoch's last step.</summary>
    public static Chart? LossChart(IReadOnlyList<Dictionary<string, string>> rows)
    {
        var steps = rows.Where(r => Get(r, "kind") == "step").ToList();
        var epochs = rows.Where(r => Get(r, "kind") == "epoch").ToList();
        if (steps.Count == 0 && epochs.Count == 0) return null;
        var chart = new Chart { Title = "Loss", XLabel = "optimizer step", YLabel = "loss", IntegerX = true };
        if (steps.Count > 0) chart.AddSeries("train loss (mean since the previous row)", Column(steps, "step"), Column(steps, "loss"), color: "#1f77b4");
        if (epochs.Count > 0) chart.AddSeries("train loss (epoch mean)", Column(epochs, "step"), Column(epochs, "loss"), color: "#2ca02c", markers: true);
        AddIfAny(chart, epochs, "val_loss", "validation loss", "#ff7f0e", dashed: false);
        AddIfAny(chart, epochs, "ema_val_loss", "validation loss, EMA weights", "#9467bd", dashed: true);
        return chart;

        static void AddIfAny(Chart c, List<Dictionary<string, string>> rows, string key, string name, string color, bool dashed)
        {
            var with = rows.Where(r => r.ContainsKey(key)).ToList();
            if (with.Count > 0) c.AddSeries(name, Column(with, "step"), Column(with, key), color: color, dashed: dashed, markers: true);
        }
    }

    /// <summary>Validation accuracy per epoch (0-based, as the console and metrics.csv number them), or null without any.</summary>
    public static Chart? AccuracyChart(IReadOnlyList<Dictionary<string, string>> rows)
    {
        var acc = rows.Where(r => Get(r, "kind") == "epoch" && r.ContainsKey("val_accuracy")).ToList();
        if (acc.Count == 0) return null;
        var chart = new Chart { Title = "Validation accuracy", XLabel = "epoch", YLabel = "accuracy", IntegerX = true, LegendAt = ScottPlot.Alignment.LowerRight };
        chart.AddSeries("model", Column(acc, "epoch"), Column(acc, "val_accuracy"), markers: true);
        var ema = acc.Where(r => r.ContainsKey("ema_val_accuracy")).ToList();
        if (ema.Count > 0) chart.AddSeries("EMA weights", Column(ema, "epoch"), Column(ema, "ema_val_accuracy"), dashed: true, markers: true);
        return chart;
    }

    private static string? Get(Dictionary<string, string> r, string key) => r.TryGetValue(key, out var v) ? v : null;

    private static double[] Column(List<Dictionary<string, string>> rows, string key) =>
        rows.Select(r => r.TryGetValue(key, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN).ToArray();

    private static (string[] Columns, List<double[]> Rows) ReadNumbers(string path)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine()?.Split(',') ?? [];
        var rows = new List<double[]>();
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (cells.Length != header.Length) continue;   // a row cut by a kill: left out of the picture
            var row = new double[cells.Length];
            for (var i = 0; i < cells.Length; i++)
                row[i] = double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
            rows.Add(row);
        }
        return (header, rows);
    }
}
