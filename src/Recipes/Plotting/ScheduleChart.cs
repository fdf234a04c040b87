using MLLrSched.Schedules;

namespace MLLrSched.Plotting;

/// <summary>Draws a <see cref="ScheduleTrace"/> (schedules themselves know nothing of charts).</summary>
public static class ScheduleChart
{
    /// <summary>An SVG chart of the trace: lr on the left axis, momentum (and others) on the right.</summary>
    public static string ToSvg(ScheduleTrace trace, string? title = null, bool logY = false)
    {
        var chart = new SvgChart
        {
            Title = title ?? trace.Title, XLabel = "step", YLabel = trace.Columns[0] == "lr" ? "learning rate" : trace.Columns[0], LogY = logY,
        };
        var others = trace.Columns.Skip(1).ToArray();
        if (others.Length > 0) chart.Y2Label = string.Join(", ", others);
        for (var i = 0; i < trace.Columns.Count; i++) chart.AddSeries(trace.Columns[i], trace.Data[i], secondaryAxis: i > 0, dashed: i > 0);
        return chart.Render();
    }
}
