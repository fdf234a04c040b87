using System.Diagnostics;

namespace MLLrSched.Bench;

internal static class Stats
{
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var v = values.OrderBy(x => x).ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    /// <summary>Median seconds of <paramref name="action"/> over <paramref name="iters"/> runs after one untimed run.</summary>
    public static double MedianTime(int iters, Action action)
    {
        action();
        var times = new double[iters];
        for (var i = 0; i < iters; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        return Median(times);
    }

    public static string Ms(double seconds) => double.IsNaN(seconds) ? "n/a" : (seconds * 1e3).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
}
