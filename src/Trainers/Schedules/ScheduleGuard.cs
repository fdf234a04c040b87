using System.Globalization;

namespace MLLrSched.Schedules;

/// <summary>Checks of schedule settings; messages name the schedule, the setting (PyTorch's name) and the valid range.</summary>
internal static class ScheduleGuard
{
    public static string F(double v) => v.ToString(CultureInfo.InvariantCulture);

    public static void Fail(string schedule, string setting, string requirement, object got) =>
        throw new ArgumentOutOfRangeException(setting,
            $"{schedule}: {setting} must be {requirement}, got {(got is double d ? F(d) : got)}.");

    public static double Finite(string schedule, string setting, double v)
    {
        if (!double.IsFinite(v)) Fail(schedule, setting, "a finite number", v);
        return v;
    }

    public static double NonNegative(string schedule, string setting, double v)
    {
        if (!(v >= 0) || double.IsInfinity(v)) Fail(schedule, setting, "≥ 0 and finite", v);
        return v;
    }

    public static double Positive(string schedule, string setting, double v)
    {
        if (!(v > 0) || double.IsInfinity(v)) Fail(schedule, setting, "> 0 and finite", v);
        return v;
    }

    public static long AtLeast(string schedule, string setting, long v, long min)
    {
        if (v < min) Fail(schedule, setting, $"≥ {min}", v);
        return v;
    }

    public static double InRange(string schedule, string setting, double v, double lo, double hi, bool loOpen = false)
    {
        if (double.IsNaN(v) || (loOpen ? v <= lo : v < lo) || v > hi)
            Fail(schedule, setting, $"in {(loOpen ? "(" : "[")}{F(lo)}, {F(hi)}]", v);
        return v;
    }

    public static long[] StrictlyIncreasing(string schedule, string setting, IEnumerable<long> values, long min)
    {
        var a = values.ToArray();
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] < min)
                Fail(schedule, setting, $"whole numbers ≥ {min} in increasing order", $"[{string.Join(", ", a)}] ({a[i]} < {min})");
            if (i > 0 && a[i] <= a[i - 1])
                Fail(schedule, setting, "strictly increasing", $"[{string.Join(", ", a)}] ({a[i]} after {a[i - 1]})");
        }
        return a;
    }

    /// <summary>Python's <c>bisect_right</c>: how many of the sorted <paramref name="a"/> are ≤ <paramref name="x"/>.</summary>
    public static int BisectRight(long[] a, double x)
    {
        int lo = 0, hi = a.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >> 1;
            if (x < a[mid]) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>Python's <c>bisect_right</c> over double boundaries.</summary>
    public static int BisectRight(double[] a, double x)
    {
        int lo = 0, hi = a.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >> 1;
            if (x < a[mid]) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>Python's float <c>%</c> (the result takes the sign of the divisor).</summary>
    public static double PyMod(double a, double b)
    {
        var r = a % b;
        if (r != 0 && (r < 0) != (b < 0)) r += b;
        else if (r == 0) r = Math.CopySign(0, b);
        return r;
    }

    /// <summary>Python's float <c>//</c> (CPython's <c>float_floor_div</c>, step for step).</summary>
    public static double PyFloorDiv(double a, double b)
    {
        var mod = a % b;
        var div = (a - mod) / b;
        if (mod != 0 && (b < 0) != (mod < 0)) div -= 1.0;
        if (div == 0) return Math.CopySign(0.0, a / b);
        var floor = Math.Floor(div);
        if (div - floor > 0.5) floor += 1.0;
        return floor;
    }
}
