namespace MLLrSched.Bench;

/// <summary>The machine's load average (/proc/loadavg): 1, 5 and 15 minutes.</summary>
internal static class LoadAverage
{
    public static string Now()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    /// <summary>The 1-minute load average, or NaN.</summary>
    public static double OneMinute() => double.TryParse(Now().Split(' ')[0], System.Globalization.NumberStyles.Float,
        System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
}
