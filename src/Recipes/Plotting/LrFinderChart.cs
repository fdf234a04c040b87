using MLLrSched.Recipes;
using MLLrSched.Training;

namespace MLLrSched.Plotting;

/// <summary>Draws and saves an LR range test's curve.</summary>
public static class LrFinderChart
{
    /// <summary>The file name (without extension) the chart gets in a run folder: lr_find.svg and lr_find.png.</summary>
    public const string FileStem = "lr_find";

    /// <summary>
    /// The chart: smoothed loss against lr on a log axis, the raw loss faint behind it, and a dashed vertical line at the
    /// suggestion. Losses above the divergence bound (the blow-up at the end) are left off so they do not flatten the
    /// interesting part; the CSV has every value.
    /// </summary>
    /// <param name="result">The range test.</param>
    /// <param name="title">Title; default names the suggestion.</param>
    public static Chart ToChart(LrFinderResult result, string? title = null)
    {
        var chart = new Chart
        {
            Title = title ?? result.DefaultTitle(),
            XLabel = "learning rate (log)",
            YLabel = "loss",
            LogX = true,
        };
        var (_, ceiling) = result.LossDisplayRange();
        double[] Clip(IReadOnlyList<double> v) => v.Select(l => double.IsFinite(l) && l <= ceiling ? l : double.NaN).ToArray();
        chart.AddSeries("loss", result.LearningRates, Clip(result.Losses), color: "#aec7e8");
        chart.AddSeries("smoothed loss", result.LearningRates, Clip(result.SmoothedLosses), color: "#1f77b4");
        var s = result.Suggestion;
        if (s.Method != LrSuggestionMethod.None)
            chart.AddVerticalLine($"suggested lr {LrFinderResult.Fmt(s.Lr)} ({s.MethodName})", s.Lr, "#d62728");
        return chart;
    }

    /// <summary>The chart as SVG text.</summary>
    public static string ToSvg(LrFinderResult result, string? title = null) => ToChart(result, title).ToSvg();

    /// <summary>Writes the CSV (<see cref="LrFinderResult.CsvFileName"/>) and the chart (lr_find.svg, lr_find.png) into
    /// <paramref name="directory"/> (created if missing).</summary>
    /// <returns>The paths written.</returns>
    public static (string Csv, string Svg, string Png) Save(LrFinderResult result, string directory, string? title = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var csv = Path.Combine(directory, LrFinderResult.CsvFileName);
        AtomicFile.WriteAllText(csv, result.ToCsv());
        var (svg, png) = ToChart(result, title).Save(Path.Combine(directory, FileStem));
        return (csv, svg, png);
    }
}
