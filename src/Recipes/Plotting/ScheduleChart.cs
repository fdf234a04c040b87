using MLLrSched.Schedules;

namespace MLLrSched.Plotting;

/// <summary>Draws a <see cref="ScheduleTrace"/> (schedules themselves know nothing of charts).</summary>
public static class ScheduleChart
{
    /// <summary>The chart of the trace: lr on the left axis, momentum (and other driven values) dashed on the right.</summary>
    public static Chart ToChart(ScheduleTrace trace, string? title = null, bool logY = false)
    {
        var others = trace.Columns.Skip(1).ToArray();
        var chart = new Chart
        {
            Title = title ?? trace.Title, XLabel = "step", YLabel = trace.Columns[0] == "lr" ? "learning rate" : trace.Columns[0], LogY = logY,
            IntegerX = true, Y2Label = others.Length > 0 ? string.Join(", ", others) : null,
        };
        for (var i = 0; i < trace.Columns.Count; i++) chart.AddSeries(trace.Columns[i], trace.Data[i], secondaryAxis: i > 0, dashed: i > 0);
        return chart;
    }

    /// <summary>The chart as SVG text.</summary>
    public static string ToSvg(ScheduleTrace trace, string? title = null, bool logY = false) => ToChart(trace, title, logY).ToSvg();

    /// <summary>The chart as PNG bytes.</summary>
    public static byte[] ToPng(ScheduleTrace trace, string? title = null, bool logY = false) => ToChart(trace, title, logY).ToPng();
}
