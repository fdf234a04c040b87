using MLLrSched.Training;

namespace MLLrSched.Plotting;

/// <summary>Draws and saves an LR range test's curve.</summary>
public static class LrFinderChart
{
    /// <summary>The file name the chart gets in a run folder.</summary>
    public const string SvgFileName = "lr_find.svg";

    /// <summary>
    /// The chart: smoothed loss against lr on a log axis, the raw loss faint behind it, and a dashed vertical line at the
    /// suggestion. Losses above the divergence bound (the blow-up at the end) are left off so they do not flatten the
    /// interesting part; the CSV has every value.
    /// </summary>
    /// <param name="result">The range test.</param>
    /// <param name="title">Title; default names the suggestion.</param>
    public static SvgChart ToChart(LrFinderResult result, string? title = null)
    {
        var chart = new SvgChart
        {
            Title = title ?? result.DefaultTitle(),
            XLabel = "learning rate",
            YLabel = "loss",
            LogX = true,
        };
        var (yMin, ceiling) = result.LossDisplayRange();
        double[] Clip(IReadOnlyList<double> v) => v.Select(l => double.IsFinite(l) && l <= ceiling ? l : double.NaN).ToArray();
        chart.AddSeries("loss", result.LearningRates, Clip(result.Losses), color: "#c6d4e6");
        chart.AddSeries("smoothed loss", result.LearningRates, Clip(result.SmoothedLosses), color: "#1f77b4");
        var s = result.Suggestion;
        if (s.Method != LrSuggestionMethod.None)
            chart.AddSeries($"suggested lr {LrFinderResult.Fmt(s.Lr)} ({s.MethodName})", new[] { s.Lr, s.Lr }, new[] { yMin, ceiling }, color: "#d62728", dashed: true);
        return chart;
    }

    /// <summary>The chart as SVG text.</summary>
    public static string ToSvg(LrFinderResult result, string? title = null) => ToChart(result, title).Render();

    /// <summary>Writes the CSV (<see cref="LrFinderResult.CsvFileName"/>) and the chart (<see cref="SvgFileName"/>) into
    /// <paramref name="directory"/> (created if missing).</summary>
    /// <returns>The two paths written.</returns>
    public static (string Csv, string Svg) Save(LrFinderResult result, string directory, string? title = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var csv = Path.Combine(directory, LrFinderResult.CsvFileName);
        var svg = Path.Combine(directory, SvgFileName);
        File.WriteAllText(csv, result.ToCsv());
        File.WriteAllText(svg, ToSvg(result, title));
        return (csv, svg);
    }
}
